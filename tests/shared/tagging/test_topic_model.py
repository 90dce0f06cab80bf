"""The topic model: it loads offline from the repository, its scores are probabilities, a story can have
more than one subject, and news it never saw lands on the subject a reader would give it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from shared.tagging.base import Document
from shared.tagging.settings import TaggingSettings
from shared.tagging.topic_features import featurize, tokens
from shared.tagging.topic_lexicon import SUBJECTS
from shared.tagging.topics import (
    EMBEDDING_WORDS,
    MODEL_FILE,
    VERSION,
    TopicModel,
    TopicTagger,
    best_subject,
    embedding_weights,
    model_text,
    subject_probabilities,
)
from tests.support import fixture_text


def _doc(title: str, body: str, language: str | None = "en") -> Document:
    return Document(id=title, title=title, body=body, language=language)


def test_the_model_loads_from_the_committed_file_with_all_seventeen_subjects() -> None:
    model = TopicModel.load(MODEL_FILE)
    assert len(model.codes) == 17 and model.codes[0] == "01000000"
    assert model.weights.shape == (len(model.buckets), 17)
    assert np.all(np.diff(model.buckets) > 0)  # sorted: look-ups are a binary search
    assert model.embedding_weights.shape == (512, 17)
    assert 0.0 < model.embedding_share <= 1.0
    assert MODEL_FILE.stat().st_size < 5_000_000


def test_the_embedding_weighs_in_full_on_a_short_item_and_less_on_a_long_article() -> None:
    short = "Chipmaker shares jump after strong quarterly sales"
    long = " ".join(["word"] * (EMBEDDING_WORDS * 10))
    weights = embedding_weights([short, long], 0.8)
    assert weights[0] == pytest.approx(0.8)
    assert weights[1] == pytest.approx(0.08)  # it read a tenth of the article


def test_features_are_stable_and_unit_length() -> None:
    ids, values = featurize("Shares rose on Monday as the central bank held interest rates")
    again, _ = featurize("Shares rose on Monday as the central bank held interest rates")
    assert np.array_equal(ids, again)
    assert abs(float(np.linalg.norm(values)) - 1.0) < 1e-5
    assert tokens("4th Qtr shr 71 cts") == ["0", "qtr", "shr", "0", "cts"]


@pytest.mark.parametrize(
    ("title", "body", "code"),
    [
        (
            "Goalkeeper's late save sends the holders into the semi-finals",
            "The visitors hit the post twice before the break, and the home side's striker was booked for diving.",
            "15000000",
        ),
        (
            "Chipmaker unveils a faster processor for laptops",
            "The company says the chip uses less power and will ship in computers from several makers next year.",
            "13000000",
        ),
        (
            "Artillery pounds the northern town as the truce collapses",
            "Government troops and rebel fighters exchanged fire through the night; the army said it had retaken "
            "two villages.",
            "16000000",
        ),
        (
            "Pharmacies run short of antibiotics as infections rise",
            "Doctors say patients with chest infections are waiting days for treatment while the health ministry "
            "blames a supplier.",
            "07000000",
        ),
    ],
)
def test_unseen_news_gets_the_subject_a_reader_would_give_it(title: str, body: str, code: str) -> None:
    assert best_subject(_doc(title, body)) == code


def test_scores_are_probabilities_and_a_story_can_have_two_subjects() -> None:
    doc = _doc(
        "Finance minister resigns after parliament rejects her tax and spending plan",
        "The government's budget would have raised income tax and cut the deficit; bond markets fell and the "
        "opposition demanded an early election.",
    )
    probs = subject_probabilities(doc)
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    tags = TopicTagger().tag([doc])[0]
    assert {t.value for t in tags} >= {"11000000", "04000000"}
    assert all(t.kind == "topic" and t.tagger == "topics" and 0 < t.score <= 1 for t in tags)
    assert tags[0].score == max(t.score for t in tags)


def test_other_languages_and_empty_text_get_no_topic() -> None:
    tagger = TopicTagger()
    german = _doc("Regierung beschließt Haushalt", "Der Bundestag stimmte am Freitag zu.", language="de")
    empty = _doc("", "", language="en")
    assert tagger.tag([german, empty]) == [[], []]


# The desk a subject belongs to, as a wire service files short items: economy and labour to business, sport to
# sport, science and technology to scitech; politics, conflict and the rest to world.
DESK_OF_SUBJECT = {"04000000": "business", "09000000": "business", "15000000": "sport", "13000000": "scitech"}


def _short_items() -> list[tuple[str, str, str]]:
    lines = fixture_text("desks/short-items.tsv").splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


@pytest.mark.parametrize(("desk", "headline", "sentence"), _short_items())
def test_a_short_item_lands_on_its_desk(desk: str, headline: str, sentence: str) -> None:
    code = best_subject(_doc(headline, sentence))
    assert DESK_OF_SUBJECT.get(code, "world") == desk, (headline, code)


def test_every_desk_has_short_items_to_check() -> None:
    assert {desk for desk, _, _ in _short_items()} == {"business", "sport", "scitech", "world"}


def test_the_training_text_covers_every_subject_and_credits_the_iptc_vocabulary() -> None:
    from devtools.train_topics import MODEL_DIR, read_examples

    iptc = MODEL_DIR / "iptc_mediatopics.tsv"
    assert "CC BY 4.0" in iptc.read_text(encoding="utf-8").split("\n", 4)[2]
    for name in ("headlines.tsv", "iptc_mediatopics.tsv"):
        covered = {code for _, codes in read_examples(MODEL_DIR / name) for code in codes}
        assert covered == set(SUBJECTS), name


def test_without_the_embedding_the_ngram_model_decides_alone_under_its_own_version() -> None:
    doc = _doc(
        "Goalkeeper's late save sends the holders into the semi-finals",
        "The visitors hit the post twice before the break, and the home side's striker was booked for diving.",
    )
    ngram = TopicTagger(embedding=False)
    both = TopicTagger()
    assert ngram.version.startswith(f"{VERSION}/iptc-top-logreg-ngram-") and "embedding" not in ngram.version
    assert ngram.version != both.version  # a backfill tells the two apart
    [tags] = ngram.tag([doc])
    probs = ngram.model.ngram_probabilities(model_text(doc))
    assert tags[0].value == ngram.model.codes[int(np.argmax(probs))] == "15000000"
    assert tags[0].score == pytest.approx(float(probs.max()), abs=1e-4)
    assert tags != both.tag([doc])[0]  # the average moves the scores: the embedding half is really left out


def test_the_fast_profile_tags_topics_without_the_sentence_encoder() -> None:
    assert TaggingSettings(profile="full").topics_embedding
    assert not TaggingSettings(profile="fast").topics_embedding
    assert TaggingSettings(profile="fast", topic_embedding=True).topics_embedding
    assert not TaggingSettings(profile="full", topic_embedding=False).topics_embedding
    # In a fresh process (this one has loaded the encoder already): the fast profile's taggers load no encoder,
    # and its topic tags come from the n-gram model.
    script = (
        "from shared.events import embedding\n"
        "from shared.tagging.base import Document\n"
        "from shared.tagging.settings import TaggingSettings\n"
        "from shared.tagging.taggers import Taggers\n"
        "t = Taggers(TaggingSettings(profile='fast'))\n"
        "d = Document(id=1, title='Central bank raises interest rates', body='The bank lifted its main rate to "
        "curb inflation; bond yields and the currency rose.', language='en')\n"
        "[tags] = t.tag([d])\n"
        "print(embedding._encoder.cache_info().currsize, [x.value for x in tags if x.kind == 'topic'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    loaded, topics = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert loaded == "0"
    assert "04000000" in topics  # economy
