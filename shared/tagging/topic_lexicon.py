"""Curated keyword patterns for the IPTC Media Topics top level, in the manner of EMM's category patterns.

Written by hand from the IPTC definitions of each subject and ordinary news vocabulary; no corpus was used to
fit them. Each subject maps terms (one word, or two words joined by a space) to a weight: 3 for words that
nearly always mean the subject, 2 for typical words, 1 for words that lean towards it. Plurals ending in -s
are matched by the tagger, so terms are listed in the singular unless the plural means something else.
``CASED`` holds words whose meaning depends on a capital letter (the Labour party is politics, labour is
labour).
"""

from __future__ import annotations

SUBJECTS: dict[str, str] = {
    "01000000": "arts, culture, entertainment and media",
    "02000000": "crime, law and justice",
    "03000000": "disaster, accident and emergency incident",
    "04000000": "economy, business and finance",
    "05000000": "education",
    "06000000": "environment",
    "07000000": "health",
    "08000000": "human interest",
    "09000000": "labour",
    "10000000": "lifestyle and leisure",
    "11000000": "politics",
    "12000000": "religion",
    "13000000": "science and technology",
    "14000000": "society",
    "15000000": "sport",
    "16000000": "conflict, war and peace",
    "17000000": "weather",
}


def _terms(weight: int, words: str) -> dict[str, int]:
    return {w.strip(): weight for w in words.split(",") if w.strip()}


def _subject(*groups: dict[str, int]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for group in groups:
        merged.update(group)
    return merged


LEXICON: dict[str, dict[str, int]] = {
    "01000000": _subject(
        _terms(
            3,
            "film, movie, cinema, actor, actress, album, singer, songwriter, band, concert, oscar, oscars, "
            "grammy, bafta, emmy, box office, hollywood, bollywood, theatre, theater, musical, novelist, "
            "poet, poetry, orchestra, opera, ballet, sitcom, soap opera, film festival, screenplay, "
            "screenwriter, film-maker, filmmaker, blockbuster, sequel, pop star, rock band, rapper, hip-hop, "
            "box-office, starring, co-star, biopic, documentary, gallery, exhibition, museum, sculpture, "
            "painter, artist, entertainment, showbiz, celebrity, choreographer, comedian, comedy, drama, "
            "television series, tv series, tv show, reality show, talent show, broadcaster, chart, "
            "single, hit single, top 10, number one single, best actor, best actress, best film, "
            "nominated, nomination, nominations, award ceremony, red carpet, premiere, director, "
            "soundtrack, record label, gig, tour, fans, rock, pop, jazz, hip hop, rap, dj, musician, "
            "guitarist, drummer, vocalist, lyrics, song, songs, music video, box set, dvd, west end, "
            "broadway, stage, audience, viewers, ratings, episode, series, channel, bbc one, itv, "
            "cartoon, animation, animated, novel, book, author, literary, publisher, bestseller, prize",
        ),
        _terms(1, "show, star, stars, award, awards, festival, culture, arts, art, media, newspaper, magazine"),
    ),
    "02000000": _subject(
        _terms(
            3,
            "police, arrest, arrested, murder, murdered, court, trial, judge, jury, prosecutor, prosecution, "
            "convicted, conviction, sentenced, sentence, prison, jail, jailed, crime, criminal, charged, "
            "lawsuit, sued, guilty, acquitted, fraud, theft, robbery, burglary, assault, manslaughter, "
            "homicide, detective, investigation, suspect, suspects, custody, bail, appeal court, high court, "
            "supreme court, magistrate, lawyer, attorney, barrister, solicitor, verdict, plea, indictment, "
            "indicted, extradition, smuggling, trafficking, drug dealer, gang, kidnapping, kidnapped, "
            "shooting, stabbing, killer, rape, offender, offence, offense, law enforcement, legal action, "
            "court case, ruling, injunction, copyright infringement, piracy, illegal, unlawful, corruption, "
            "bribery, money laundering, scotland yard, fbi",
        ),
        _terms(1, "law, legal, justice, case, charges, alleged, allegedly, accused, evidence, witness"),
    ),
    "03000000": _subject(
        _terms(
            3,
            "earthquake, quake, tsunami, flood, flooding, floods, hurricane, cyclone, typhoon, tornado, "
            "wildfire, bushfire, landslide, avalanche, volcano, eruption, disaster, catastrophe, crash, "
            "plane crash, air crash, derailment, derailed, collision, explosion, blast, fire, blaze, "
            "firefighters, rescue, rescuers, rescued, survivors, death toll, casualties, emergency services, "
            "evacuated, evacuation, accident, accidents, capsized, shipwreck, drowned, famine, drought, "
            "humanitarian aid, relief effort, aid agencies, red cross, injured, trapped, debris",
        ),
        _terms(1, "emergency, victims, damage, destroyed, missing"),
    ),
    "04000000": _subject(
        _terms(
            3,
            "economy, economic, economist, economists, gdp, inflation, interest rate, interest rates, "
            "central bank, federal reserve, bank of england, ecb, recession, growth forecast, stock market, "
            "shares, share price, shareholders, shareholder, stock exchange, stocks, investors, investor, "
            "profit, profits, pre-tax, revenue, revenues, turnover, earnings, dividend, quarter, quarterly, "
            "sales, retail, retailer, retailers, company, companies, firm, firms, chief executive, ceo, "
            "chairman, board, merger, acquisition, takeover, bid, deal, buyout, ipo, listing, market, "
            "markets, trade, trading, exports, imports, export, import, tariff, tariffs, trade deficit, "
            "deficit, surplus, budget deficit, debt, bond, bonds, currency, dollar, euro, sterling, yen, "
            "yuan, exchange rate, oil price, oil prices, crude, barrel, opec, commodity, commodities, "
            "bank, banks, banking, lender, lenders, loan, loans, mortgage, mortgages, credit, finance, "
            "financial, fund, funds, hedge fund, pension, pensions, insurance, insurer, insurers, "
            "consumer, consumers, consumer spending, spending, prices, price, cost, costs, business, "
            "businesses, industry, industrial, manufacturing, manufacturer, manufacturers, output, "
            "production, factory, factories, car maker, carmaker, airline, airlines, telecoms, brand, "
            "brands, customers, customer, analysts, analyst, forecast, forecasts, fiscal, tax, taxes, "
            "taxation, vat, imf, world bank, wto, g7, g8, nasdaq, dow jones, ftse, nikkei, dow, "
            "bankruptcy, bankrupt, insolvency, administration, creditors, job cuts, restructuring, "
            "valuation, billion, million, per cent, percent, year-on-year, annual, "
            "growth, rose, fell, rise, fall, jump, slump, boost, invest, investment, investments, "
            "investing, stake, assets, capital, equity, venture capital, subsidiary, conglomerate, "
            "housing market, house prices, property market, energy prices, gas prices, petrol, "
            "supermarket, supermarkets, shops, shopping, high street, store, stores, chain, "
            "marketing, advertising, sponsorship, contract, contracts, supplier, suppliers, "
            "economies, economy's, jobless, unemployment rate, wages, productivity, budget, chancellor",
        ),
    ),
    "05000000": _subject(
        _terms(
            3,
            "school, schools, pupils, pupil, student, students, teacher, teachers, teaching, university, "
            "universities, college, colleges, education, educational, curriculum, exam, exams, "
            "examination, gcse, a-level, a-levels, degree, graduates, graduate, tuition fees, tuition, "
            "classroom, headteacher, head teacher, academic, academics, lecturer, campus, literacy, "
            "numeracy, school leavers, kindergarten, nursery school, primary school, secondary school, "
            "higher education, ofsted, scholarship, undergraduate, postgraduate",
        ),
    ),
    "06000000": _subject(
        _terms(
            3,
            "environment, environmental, climate change, global warming, greenhouse gas, greenhouse gases, "
            "carbon emissions, emissions, carbon dioxide, co2, pollution, polluted, pollutant, kyoto, "
            "renewable, renewables, renewable energy, wind farm, solar power, biodiversity, endangered, "
            "species, wildlife, conservation, deforestation, rainforest, recycling, recycle, waste, "
            "landfill, sustainable, sustainability, ecosystem, habitat, extinction, ozone, fossil fuels, "
            "green groups, greenpeace, friends of the earth, wwf, nature reserve, national park",
        ),
    ),
    "07000000": _subject(
        _terms(
            3,
            "health, healthcare, hospital, hospitals, patient, patients, doctor, doctors, nurse, nurses, "
            "nhs, disease, diseases, illness, cancer, diabetes, heart disease, obesity, virus outbreak, "
            "epidemic, pandemic, vaccine, vaccines, vaccination, drug, drugs, medicine, medicines, "
            "medical, treatment, therapy, surgery, surgeon, gp, gps, clinic, clinical trial, infection, "
            "infections, hiv, aids, malaria, tuberculosis, flu, influenza, bird flu, mrsa, symptoms, "
            "diagnosis, diagnosed, mental health, depression, dementia, alzheimer's, smoking, tobacco, "
            "alcohol, public health, world health organization, pharmaceutical, health service, "
            "blood, transplant, nutrition, diet, fitness",
        ),
    ),
    "08000000": _subject(
        _terms(
            2,
            "oddly, quirky, bizarre, heartwarming, birthday, anniversary, wedding, centenarian, pet, "
            "pets, dog, cat, zoo, lottery, jackpot, reunited, hero, record-breaking, guinness world record, "
            "world record attempt, prank, celebration",
        ),
    ),
    "09000000": _subject(
        _terms(
            3,
            "strike, strikes, striking, walkout, trade union, trade unions, union, unions, unionised, "
            "labour market, employment, unemployment, unemployed, jobless, jobs, job, workers, worker, "
            "workforce, employees, employee, employer, employers, wage, wages, minimum wage, salary, "
            "salaries, pay rise, pay deal, pay dispute, industrial action, redundancy, redundancies, "
            "layoffs, laid off, job losses, pension age, retirement, working hours, overtime, tuc, "
            "collective bargaining, picket, recruitment, hiring, staff",
        ),
    ),
    "10000000": _subject(
        _terms(
            3,
            "travel, tourism, tourist, tourists, holiday, holidays, vacation, resort, hotel, hotels, "
            "restaurant, restaurants, chef, recipe, cooking, cuisine, food, wine, fashion, designer, "
            "catwalk, fashion week, hobby, hobbies, gardening, leisure, lifestyle, shopping, "
            "dating, wellness, beauty, cosmetics, diy, home improvement, cruise, theme park",
        ),
    ),
    "11000000": _subject(
        _terms(
            3,
            "politics, political, politician, politicians, government, governments, minister, ministers, "
            "prime minister, president, presidential, election, elections, electoral, vote, votes, voting, "
            "voters, voter, ballot, poll, polls, opinion poll, campaign, campaigning, candidate, candidates, "
            "party, parties, parliament, parliamentary, mp, mps, mep, meps, senator, senate, congress, "
            "congressman, congresswoman, house of commons, house of lords, commons, lords, peers, cabinet, "
            "chancellor, home secretary, foreign secretary, secretary of state, opposition, coalition, "
            "manifesto, legislation, bill, law, referendum, constitution, constitutional, democracy, "
            "democratic, democrats, republicans, republican, tory, tories, conservative, conservatives, "
            "liberal democrats, lib dems, lib dem, labour party, conservative party, general election, "
            "leader, leadership, policy, policies, reform, reforms, ministry, spokesman, spokeswoman, "
            "diplomat, diplomatic, diplomacy, embassy, ambassador, summit, sanctions, treaty, regime, "
            "dictator, governor, mayor, council, councillor, lawmakers, legislators, legislature, "
            "white house, downing street, whitehall, westminster, kremlin, european union, eu, nato, un, "
            "united nations, security council, foreign minister, foreign policy, asylum, immigration, "
            "immigrants, civil liberties, id cards, home office, public services, backbencher, "
            "backbenchers, frontbench, whip, by-election, constituency, constituencies, seat, seats, "
            "majority, minority government, veto, amendment, resign, resignation, resigned, sworn, "
            "inauguration, incumbent, administration, officials, authorities, state, states, nation, "
            "national, sovereignty, independence, protest, protesters, demonstrators, activists, rally, "
            "rebels, opposition-held, loyalists, government forces, regime forces",
        ),
    ),
    "12000000": _subject(
        _terms(
            3,
            "religion, religious, church, churches, mosque, mosques, temple, synagogue, pope, vatican, "
            "bishop, archbishop, priest, priests, clergy, cleric, clerics, imam, rabbi, christian, "
            "christians, christianity, muslim, muslims, islam, islamic, jewish, jews, judaism, hindu, "
            "hindus, hinduism, buddhist, buddhism, sikh, catholic, catholics, protestant, anglican, "
            "evangelical, faith, worship, prayer, prayers, pilgrimage, pilgrims, ramadan, christmas, "
            "easter, eid, sect, sectarian, shia, shiite, sunni, alawite, theology, sermon, blasphemy",
        ),
    ),
    "13000000": _subject(
        _terms(
            3,
            "technology, technologies, tech, hi-tech, high-tech, computer, computers, computing, software, "
            "hardware, internet, online, web, website, websites, net, broadband, wi-fi, wifi, wireless, "
            "mobile phone, mobile phones, mobile, mobiles, smartphone, phone, phones, handset, handsets, "
            "gadget, gadgets, device, devices, digital, laptop, laptops, pc, pcs, desktop, tablet, "
            "microchip, chip, chips, processor, semiconductor, silicon, data, database, server, servers, "
            "network, networks, cyber, hacker, hackers, hacking, hacked, virus, viruses, malware, spam, "
            "phishing, spyware, worm, security firm, encryption, password, e-mail, email, emails, e-mails, "
            "search engine, blog, blogs, blogger, bloggers, podcast, podcasting, download, downloads, "
            "downloading, file-sharing, peer-to-peer, p2p, mp3, ipod, itunes, music player, video games, "
            "video game, games console, console, consoles, gaming, gamers, playstation, xbox, nintendo, "
            "microsoft, apple, google, yahoo, ibm, intel, sony, nokia, linux, windows, open source, "
            "program, programs, programme, users, user, app, apps, robot, robots, robotics, artificial "
            "intelligence, ai, science, scientist, scientists, scientific, research, researchers, "
            "researcher, study, experiment, laboratory, lab, physics, chemistry, biology, genetic, "
            "genetics, dna, gene, genes, space, nasa, astronaut, astronauts, satellite, satellites, "
            "telescope, planet, planets, mars, probe, orbit, rocket, spacecraft, innovation, invention, "
            "inventor, engineering, engineers, electronics, electronic, consumer electronics, tv, "
            "television, hdtv, high-definition, screen, screens, camera, cameras, digital camera, "
            "technology firm, tech firm, telecommunications, 3g, gps, broadband users, net users, "
            "web users, online services, virtual, interactive, multimedia, dvd, blu-ray, storage, "
            "memory, gigabyte, megabyte, bandwidth, code, developer, developers, silicon valley",
        ),
    ),
    "14000000": _subject(
        _terms(
            3,
            "society, social, community, communities, poverty, poor, homeless, homelessness, welfare, "
            "benefits, inequality, discrimination, racism, racist, gender, equality, women's rights, "
            "human rights, civil rights, gay, lesbian, same-sex, marriage, divorce, family, families, "
            "children, child, elderly, pensioners, youth, teenagers, migrants, migration, refugee, "
            "refugees, charity, charities, volunteers, population, census, demographic, housing, "
            "social services, disability, disabled",
        ),
    ),
    "15000000": _subject(
        _terms(
            3,
            "sport, sports, football, soccer, rugby, cricket, tennis, golf, athletics, olympic, olympics, "
            "boxing, boxer, cycling, formula one, f1, grand prix, motor racing, horse racing, racing, "
            "basketball, baseball, hockey, swimming, swimmer, marathon, sprinter, sprint, hurdles, "
            "match, matches, game, games, tournament, championship, championships, champion, champions, "
            "cup, world cup, league, premiership, premier league, division, fa cup, uefa, fifa, "
            "champions league, six nations, test match, wimbledon, grand slam, open, semi-final, "
            "semi-finals, quarter-final, quarter-finals, final, finals, coach, manager, player, players, "
            "team, teams, squad, captain, striker, midfielder, defender, goalkeeper, keeper, winger, "
            "forward, fly-half, scrum, try, tries, wicket, wickets, innings, batsman, bowler, seed, "
            "seeded, set, sets, goal, goals, scored, score, scorer, penalty, penalties, kick, "
            "kick-off, half-time, injury, injured, injuries, hamstring, ankle, knee, fitness, "
            "transfer, signing, loan, contract, fans, supporters, stadium, pitch, referee, red card, "
            "yellow card, win, won, wins, victory, defeat, defeated, beat, lost, draw, drew, "
            "points, medal, medals, gold medal, silver, bronze, world record, record, title, "
            "season, club, clubs, coach, athlete, athletes, race, races, lap, podium, "
            "relay, doping, drugs test, iaaf, ioc, paralympic, ranking, rankings, world number, "
            "singles, doubles, serve, match point, tie-break, golfer, rugby union, rugby league, "
            "international, internationals, debut, cap, caps, friendly, qualifier, qualifiers, "
            "qualifying, fixture, fixtures, home, away, unbeaten, trophy, play-off, play-offs, "
            "relegation, promoted, manchester united, arsenal, chelsea, liverpool",
        ),
    ),
    "16000000": _subject(
        _terms(
            3,
            "war, wars, warfare, civil war, conflict, conflicts, military, army, armies, troops, soldier, "
            "soldiers, militants, militant, militia, militias, rebel, rebels, insurgent, insurgents, "
            "insurgency, fighters, fighting, fought, clashes, clashed, battle, battlefield, offensive, "
            "airstrike, airstrikes, air strike, air strikes, bombing, bombings, bombed, bomb, bombs, "
            "shelling, missile, missiles, rocket attack, artillery, tank, tanks, weapons, weapon, "
            "arms, ceasefire, cease-fire, truce, peace talks, peace process, peace deal, peacekeepers, "
            "peacekeeping, invasion, invaded, occupation, occupied, terrorism, terrorist, terrorists, "
            "terror, attack, attacks, attacked, suicide bomber, hostage, hostages, guerrilla, guerrillas, "
            "jihadist, jihadists, al-qaeda, taliban, hezbollah, hamas, isis, islamic state, combatants, "
            "casualties, killed, wounded, massacre, genocide, refugees, displaced, siege, besieged, "
            "stronghold, strongholds, recaptured, retake, front line, frontline, fronts, brigade, "
            "brigades, battalion, regiment, commander, commanders, general, generals, defence, "
            "defense, ministry of defence, pentagon, navy, air force, warplanes, drone, drones, "
            "nuclear weapons, armed group, armed forces, security forces, sectarian, violence, "
            "uprising, revolt, coup, junta, regime, stalemate, escalated, escalation, offensive, "
            "revolutionary guards, paramilitary, fighting centred, opposition brigades",
        ),
    ),
    "17000000": _subject(
        _terms(
            3,
            "weather, forecast, forecasters, rain, rainfall, snow, snowfall, storm, storms, heatwave, "
            "heat wave, temperatures, temperature, frost, fog, wind, winds, gales, sunshine, cold snap, "
            "met office, meteorological, meteorologist, blizzard, thunderstorm, thunderstorms, hail, "
            "humidity, monsoon, el nino",
        ),
    ),
}

# Everyday words that lean towards a subject without settling it: weight 1 wherever they are listed.
GENERIC = frozenset(
    _terms(
        1,
        "home, away, open, record, title, win, won, wins, beat, lost, draw, drew, set, sets, seed, score, points, "
        "season, club, clubs, race, races, final, finals, game, games, match, international, cap, caps, debut, "
        "friendly, contract, contracts, loan, loans, fitness, injury, injured, kick, try, tries, forward, keeper, "
        "serve, silver, record, manager, captain, team, teams, player, players, coach, fans, supporters, "
        "state, states, nation, national, officials, authorities, leader, leadership, policy, policies, reform, "
        "reforms, bill, law, seat, seats, majority, minority government, administration, council, party, parties, "
        "campaign, spokesman, spokeswoman, protest, rally, activists, series, channel, stage, audience, viewers, "
        "ratings, episode, chart, single, tour, rock, pop, book, author, prize, director, gallery, drama, comedy, "
        "song, songs, show, market, markets, deal, bid, board, chain, store, stores, brand, brands, price, prices, "
        "cost, costs, growth, rose, fell, rise, fall, jump, slump, boost, quarter, annual, sales, spending, "
        "business, businesses, firm, firms, fund, funds, output, production, credit, customers, customer, "
        "consumer, consumers, billion, million, per cent, percent, program, programs, programme, users, user, "
        "code, screen, screens, memory, storage, data, network, networks, net, online, web, digital, mobile, "
        "phone, phones, device, devices, virtual, interactive, study, research, science, tv, television, "
        "attack, attacks, attacked, killed, wounded, violence, general, generals, commander, regime, fighting, "
        "defence, defense, blood, diet, treatment, drug, drugs, staff, jobs, job, hiring, recruitment, food, "
        "travel, holiday, holidays, children, child, family, families, housing, community, communities, "
        "social, poor, population, marriage, wind, winds, temperature, temperatures, forecast, fire, crash, "
        "damage, blast, rescue, court, appeal court, ruling, investigation, case, illegal, faith, christmas, "
        "easter, sect, space, probe, orbit, planet, chip, chips, console, program, developer, developers, "
        "union, unions, worker, workers, wage, wages, employees, employee, employer, employers, strike, strikes",
    )
)
for _subject_terms in LEXICON.values():
    for _term in GENERIC.intersection(_subject_terms):
        _subject_terms[_term] = 1

# Words whose capital letter changes the subject: parties and institutions.
CASED: dict[str, tuple[str, int]] = {
    "Labour": ("11000000", 3),
    "Tory": ("11000000", 3),
    "Tories": ("11000000", 3),
    "Conservatives": ("11000000", 3),
    "Commons": ("11000000", 3),
    "Lords": ("11000000", 2),
    "Parliament": ("11000000", 3),
    "Congress": ("11000000", 3),
    "Senate": ("11000000", 3),
    "Democrats": ("11000000", 3),
    "Republicans": ("11000000", 3),
    "WHO": ("07000000", 3),
    "IT": ("13000000", 2),
}
