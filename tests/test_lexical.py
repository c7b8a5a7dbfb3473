import numpy as np
import pytest

from qa.lexical import BM25, tokenize


def test_tokenize_drops_stopwords_and_stems():
    assert tokenize("The leaders’ values and the Leader's value") == ["leader", "valu", "leader", "valu"]
    assert tokenize("Organisations organising") == ["organis", "organis"]


def test_a_noun_in_ion_and_its_adjective_are_one_term():
    # Snowball cut "compassion" to "compass" and "compassionate" to "compassion": never one term.
    assert tokenize("compassion professions") == tokenize("compassionate professional")
    assert tokenize("passion") == tokenize("passionate") != tokenize("pass")  # no "-ion" cut where none was


def test_the_article_answers_what_it_says_about_compassion(article_index):
    # It says "compassionate" (care, behaviours), never "compassion": it was told "not covered".
    answer = article_index.ask("What does the article say about compassion?")
    assert answer.found and "compassionate" in answer.text


def test_bm25_ranks_the_matching_row_first_and_round_trips():
    texts = ["collective leadership in the NHS", "bread baking at home", "leadership of teams and teams"]
    bm25 = BM25.build(texts)
    scores = bm25.scores(tokenize("how do I bake bread"))
    assert int(np.argmax(scores)) == 1
    assert scores[0] == 0 and scores[2] == 0
    again = BM25.from_arrays(bm25.to_arrays("x"), "x", len(texts))
    query = tokenize("collective leadership")
    assert np.allclose(again.scores(query), bm25.scores(query))
    assert not again.scores(tokenize("unknownword")).any()


def test_an_abbreviation_and_its_spelled_out_form_are_read_as_the_same_terms():
    # Whichever one a text wrote, it holds the terms of both, so either one in a question matches.
    for short, spelled in [("BME", "black and minority ethnic"), ("CQC", "Care Quality Commission")]:
        assert set(tokenize(f"{short} staff")) == set(tokenize(f"{spelled} staff"))
    assert set(tokenize("GPs")) == set(tokenize("GP")) == set(tokenize("general practitioners"))
    # Longest first: "chief executive officer" is one phrase, not "chief executive" and "officer".
    assert tokenize("the chief executive officer") == ["chief", "execut", "offic", "ceo"]
    # The words alone are not the phrase.
    assert "bme" not in tokenize("a minority of black cats")


def test_the_words_of_one_profession_are_one_term():
    assert len(set(tokenize("surgeon surgery surgical"))) == 1
    assert len(set(tokenize("midwife midwives midwifery"))) == 1
    assert tokenize("clinical leaders") == tokenize("clinician leaders")
    assert tokenize("nursing and dentistry") != tokenize("nursing and surgery")


@pytest.mark.parametrize(
    ("american", "british"),
    [
        ("organizational behavior", "organisational behaviour"),
        ("staff prioritized it", "staff prioritised it"),
        ("pediatric anesthesia and hematology", "paediatric anaesthesia and haematology"),
        ("the program's judgment on aging", "the programme's judgement on ageing"),
        ("we analyzed the defense", "we analysed the defence"),
    ],
)
def test_american_and_british_spellings_are_one_term(american, british):
    # The content is the NHS's (British); readers may write either.
    assert tokenize(american) == tokenize(british)


def test_spellings_that_would_merge_different_words_or_names_stay_apart():
    assert tokenize("Center") != tokenize("Centre")  # "the Center for ..." is not "the Centre of ..."
    assert tokenize("filled") != tokenize("filed")
    assert tokenize("size prize citizen humorous pedestrian") == ["size", "prize", "citizen", "humor", "pedestrian"]


def test_an_american_question_is_told_what_the_british_one_is(article_index):
    # "behaviors" was a term the article never writes: told "not answered" (0.07).
    american = article_index.judge("Which behaviors of colleagues should staff speak up about?")
    british = article_index.judge("Which behaviours of colleagues should staff speak up about?")
    assert american.status == british.status != "related"
    assert american.passages[0].text == british.passages[0].text


def test_a_question_in_spelled_out_words_covers_a_passage_that_abbreviates():
    bm25 = BM25.build(["We need greater diversity in terms of BME representation.", "Diversity of gender."])
    terms = tokenize("black and minority ethnic representation")
    assert bm25.coverage(terms, 0) == 1.0
    assert int(np.argmax(bm25.scores(terms))) == 0


def test_the_article_answers_a_question_that_spells_out_its_abbreviation(article_index):
    # The article writes "BME"; before the glossary this question's best passage never mentioned it.
    passage = article_index.retrieve("Should there be more black and minority ethnic leaders?", k=1)[0]
    assert "greater diversity in terms of BME" in passage.text


def test_an_edited_glossary_makes_indexes_built_with_the_old_one_stale(tmp_path, monkeypatch):
    import qa.config
    from qa.config import SETTINGS
    from qa.glossary import FILE

    before = SETTINGS.splitter_id()
    edited = tmp_path / "glossary.json"
    edited.write_text(FILE.read_text(encoding="utf-8").replace('"QI"', '"QIP"'), encoding="utf-8")
    monkeypatch.setattr(qa.config, "GLOSSARY", edited)
    assert SETTINGS.splitter_id() != before  # recorded in each manifest: a mismatch means rebuild


def test_an_index_built_with_another_glossary_warns_when_loaded_and_still_answers(built_index, tmp_path, caplog):
    import json
    import shutil

    import qa
    from qa import store

    copy = tmp_path / "index"
    shutil.copytree(store.resolve(built_index), copy)
    manifest = json.loads((copy / store.MANIFEST).read_text(encoding="utf-8"))
    manifest["settings"]["glossary"] += 1
    (copy / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with caplog.at_level("WARNING", logger="qa.engine"):
        answer = qa.Index.load(copy).ask("What is collective leadership?")
    assert answer.passages and "before the glossary changed" in caplog.text
    assert f"--out {copy}`" in caplog.text and "python -m index build " in caplog.text

    caplog.clear()
    with caplog.at_level("WARNING", logger="qa.engine"):
        qa.Index.load(built_index).ask("What is collective leadership?")
    assert "changed" not in caplog.text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "is not a glossary"),
        ('{"abbreviations": {}}', "is not a glossary"),
        ('{"abbreviations": {"CQC": []}, "same_words": [], "words": ["covid"]}', "list of its spelled-out forms"),
        ('{"abbreviations": {}, "same_words": ["surgeon"], "words": ["covid"]}', "list of lists of words"),
        ('{"abbreviations": {}, "same_words": [], "words": ["Covid"]}', "list of lower-case words"),
    ],
)
def test_a_broken_glossary_is_refused_with_what_to_do(tmp_path, monkeypatch, text, says):
    from qa import glossary

    broken = tmp_path / "glossary.json"
    broken.write_text(text, encoding="utf-8")
    monkeypatch.setattr(glossary, "FILE", broken)
    glossary.glossary.cache_clear()
    try:
        with pytest.raises(ValueError, match=says):
            glossary.glossary()
    finally:
        glossary.glossary.cache_clear()  # the next caller reads the shipped one again
