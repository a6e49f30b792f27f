"""The question catalog on the real dataset: every question answers, the key ones exactly."""

import re

import pyoxigraph as ox
import pytest
import yaml
from test_queries_support import catalog, local_questions, rows, store

from openskies.graph.build import count_instances
from openskies.queries.binding import ParameterError, bind, from_ntriples, iri_term
from openskies.queries.catalog import CatalogError, parse_query
from openskies.queries.projection import project_parameters
from openskies.queries.runner import evaluate, paginate, prepare, solutions_table
from openskies.vocab import OSK, Graphs

OSD = "https://w3id.org/openskies/id/"
STANCE = "https://w3id.org/openskies/stance/"


# ---------------------------------------------------------------- the catalog files


def test_catalog_has_at_least_twenty_documented_questions():
    assert len(catalog()) >= 20
    for name, query in catalog().items():
        assert query.summary, name
        assert query.description, name
        assert query.tags, name
        assert query.method == "GET", name
        assert query.form == "SELECT", name


def test_headers_read_the_way_grlc_reads_them():
    """grlc joins the `#+` lines with '#+' stripped and loads them as YAML."""
    for name, query in catalog().items():
        lines = [row.lstrip("#+") for row in query.text.split("\n") if row.startswith("#+")]
        grlc_view = yaml.safe_load("\n".join(lines))
        assert grlc_view["summary"] == query.summary, name
        assert isinstance(grlc_view["tags"], list), name
        for key in ("defaults", "enumerate"):
            for entry in grlc_view.get(key, []):
                assert isinstance(entry, dict) and len(entry) == 1, (name, key)


GRLC_VARIABLE = re.compile(
    r"(?P<required>[_]{1,2})(?P<name>[^_]+)_?(?P<type>[a-zA-Z0-9]+)?_?(?P<userdefined>[a-zA-Z0-9]+)?.*$"
)


def _grlc_rewrite(text: str, query, values: dict[str, str]) -> str:
    """grlc's textual substitution (rewrite_query), for comparison only."""
    for parameter in query.parameters:
        value = values.get(parameter.name, parameter.default)
        if value is None:
            continue
        term = f"<{value}>" if parameter.kind == "iri" else f'"{value}"'
        text = text.replace(f"?{parameter.variable}", term)
    return text


@pytest.mark.parametrize("name", [n for n in catalog() if catalog()[n].parameters])
def test_parameterised_files_work_in_grlc_too(name):
    """The same names as grlc's regex, and grlc's pasted query gives the same rows."""
    query = catalog()[name]
    for parameter in query.parameters:
        match = GRLC_VARIABLE.match(parameter.variable)
        assert match and match.group("name") == parameter.name
        assert (match.group("required") == "_") == parameter.required
    pasted = _grlc_rewrite(query.text, query, {})
    expected = solutions_table(evaluate(store(), pasted, {}))
    prepared = prepare(query, {})
    ours = solutions_table(
        evaluate(store(), prepared.text, prepared.substitutions), hide=list(prepared.substitutions)
    )
    assert ours.variables == expected.variables
    assert _unordered(ours.rows) == _unordered(expected.rows)
    assert ours.rows


def _unordered(table_rows) -> list:
    """Rows with GROUP_CONCAT cells as sorted parts: the order of a concatenation is free."""
    return [
        tuple(
            tuple(sorted(re.split(r"; |, ", term.value))) if isinstance(term, ox.Literal) else term
            for term in row
        )
        for row in table_rows
    ]


@pytest.mark.parametrize("name", local_questions())
def test_every_question_answers_with_rows(name):
    assert rows(name), f"{name} returned no rows"


def test_paginated_questions_page_through_every_row():
    for name, query in catalog().items():
        if not query.pagination:
            continue
        assert not re.search(r"\b(LIMIT|OFFSET)\b", query.text, re.IGNORECASE), name
        everything = solutions_table(evaluate(store(), query.text, {})).rows
        pages, page = [], 1
        while True:
            chunk = solutions_table(
                evaluate(store(), paginate(query.text, page, query.pagination), {})
            ).rows
            pages.extend(chunk)
            if len(chunk) < query.pagination:
                break
            page += 1
        assert pages == list(everything), name


# ---------------------------------------------------------------- exact answers


def test_states_that_will_keep_implementing_are_the_ten_and_russia():
    result = rows("states_continuing_implementation")
    assert {row["state"] for row in result} == {
        "belgium", "czech-republic", "finland", "france", "germany", "italy",
        "luxembourg", "netherlands", "spain", "sweden", "russia",
    }  # fmt: skip
    assert len(result) == 11
    russia = next(row for row in result if row["state"] == "russia")
    assert russia["speaker"] == "sergei-ryabkov"
    assert russia["statement"] == "stmt-ryabkov-russia-will-implement"
    others = {row["statement"] for row in result if row["state"] != "russia"}
    assert others == {"stmt-joint-continue-implementing"}


def test_timeline_runs_from_the_1992_signing_to_russias_withdrawal():
    result = rows("timeline")
    assert [(row["when"], row["event"]) for row in result] == [
        ("1992-03-24", "signing-1992"),
        ("2002-01-01", "entry-into-force-2002"),
        ("2020-05-21", "us-announcement-2020-05-21"),
        ("2020-05-22", "us-withdrawal-notice-2020-05-22"),
        ("2020-07-06", "video-conference-2020-07-06"),
        ("2020-07-13", "oscc-meeting-2020-07"),
        ("2020-10-01", "october-meeting-2020"),
        ("2020-11-22", "us-withdrawal-effective-2020-11-22"),
        ("2021-06-18", "russia-withdrawal-notice-2021-06-18"),
        ("2021-12-18", "russia-withdrawal-effective-2021-12-18"),
    ]
    assert result[0]["date"] == "1992" and result[0]["placeLabel"] == "Helsinki"
    assert result[-1]["kind"] == "withdrawal taking effect"


def test_ryabkovs_statements_in_order():
    result = rows("statements_by_person")  # the default person
    assert [row["statement"] for row in result] == [
        "stmt-ryabkov-accusation-fabricated",
        "stmt-ryabkov-russia-will-implement",
        "stmt-ryabkov-dialogue-not-us-vision",
        "stmt-ryabkov-us-conditions-unacceptable",
        "stmt-ryabkov-participants-regret",
        "stmt-ryabkov-dialogue-equality",
        "stmt-ryabkov-upcoming-meetings",
        "stmt-ryabkov-no-us-political-will",
    ]
    assert [row["date"] for row in result] == ["2020-05"] * 4 + ["2020-07-06"] * 4
    implement = result[1]
    assert set(implement["stances"].split(", ")) == {"commitment", "support"}
    assert implement["directQuote"] == "true"
    assert implement["about"] == "Treaty on Open Skies"
    assert rows("statements_by_person", person="osd:sergei-ryabkov") == result


def test_statements_by_stance():
    commitment = rows("statements_by_stance")
    assert [row["statement"] for row in commitment] == [
        "stmt-ryabkov-russia-will-implement",
        "stmt-joint-continue-implementing",
    ]
    regret = rows("statements_by_stance", stance=STANCE + "regret")
    assert [(row["statement"], row["speakers"]) for row in regret] == [
        ("stmt-ryabkov-participants-regret", "Sergei Ryabkov"),
        ("stmt-borrell-regret", "Josep Borrell"),
    ]


def test_who_is_quoted_in_which_role():
    result = {row["person"]: row for row in rows("people_quoted")}
    assert {p: (r["articleSpelling"], r["role"], r["institution"]) for p, r in result.items()} == {
        "sergei-ryabkov": ("Libuyakov", "Deputy Foreign Minister", "russian-foreign-ministry"),
        "josep-borrell": (
            "Borelli",
            "High Representative of the Union for Foreign Affairs and Security Policy",
            "european-union",
        ),
        "dmitri-trenin": ("Dmitry Treinen", "Director", "carnegie-moscow-center"),
        "nikolai-sokov": ("Nikolai Sokov", "Senior Fellow", "vcdnp"),
    }
    assert result["sergei-ryabkov"]["statements"] == "8"
    assert result["sergei-ryabkov"]["state"] == "russia"


def test_treaty_signed_and_in_force():
    result = {row["kind"]: row for row in rows("treaty_dates")}
    assert result["signed"]["articleDate"] == "1992"
    assert result["signed"]["preciseDate"] == "1992-03-24"
    assert result["signed"]["placeLabel"] == "Helsinki"
    assert result["entered into force"]["articleDate"] == "2002"
    assert result["entered into force"]["preciseDate"] == "2002-01-01"


def test_us_and_russian_withdrawal_steps():
    us = rows("withdrawal_steps")
    assert [(row["date"], row["step"]) for row in us] == [
        ("2020-05-21", "announced"),
        ("2020-05-22", "gave notice"),
        ("2020-11-22", "withdrawal takes effect"),
    ]
    russia = rows("withdrawal_steps", state=OSD + "russia")
    assert [(row["date"], row["step"]) for row in russia] == [
        ("2021-06-18", "gave notice"),
        ("2021-12-18", "withdrawal takes effect"),
    ]


def test_meetings_held_and_announced():
    result = [(r["meeting"], r["status"], r["placeLabel"]) for r in rows("meetings")]
    assert result == [
        ("video-conference-2020-07-06", "held", "Vienna"),
        ("oscc-meeting-2020-07", "announced", "Vienna"),
        ("october-meeting-2020", "announced", None),
    ]


def test_people_institutions_and_states():
    result = {r["person"]: (r["institution"], r["stateLabel"]) for r in rows("person_institutions")}
    assert result == {
        "sergei-ryabkov": ("russian-foreign-ministry", "Russia"),
        "josep-borrell": ("european-union", None),
        "dmitri-trenin": ("carnegie-moscow-center", None),
        "nikolai-sokov": ("vcdnp", None),
    }
    served = {r["institution"]: r["stateLabel"] for r in rows("institutions")}
    assert served["mfa-germany"] == "Germany"
    assert served["us-state-department"] == "United States"


def test_states_parties_and_those_the_article_names():
    result = rows("states_parties")
    parties = [r for r in result if r["party"] == "true"]
    assert len(parties) == 34
    assert [r["state"] for r in result if r["party"] == "false"] == ["kyrgyzstan"]
    named = {r["state"] for r in parties if r["namedInArticle"] == "true"}
    assert named == {
        "united-states", "russia", "belgium", "czech-republic", "finland", "france",
        "germany", "italy", "luxembourg", "netherlands", "spain", "sweden",
    }  # fmt: skip
    assert "austria" not in {r["state"] for r in result}
    withdrawn = {r["state"]: r["withdrawalTookEffect"] for r in result if r["withdrawalTookEffect"]}
    assert withdrawn == {"united-states": "2020-11-22", "russia": "2021-12-18"}


def test_supporting_text_of_a_statement():
    (span,) = rows("statement_evidence")  # the joint statement by default
    assert span["span"] == "span-joint-statement"
    assert (span["start"], span["end"], span["verified"]) == ("3225", "3438", "true")
    assert span["exact"].startswith("The Foreign Ministry of Belgium")
    (ryabkov,) = rows("statement_evidence", statement="osd:stmt-ryabkov-dialogue-not-us-vision")
    assert ryabkov["exact"].startswith('"We are willing to continue the dialogue')


def test_every_text_span_matches_the_article():
    result = rows("text_spans")
    assert len(result) > 30
    assert {r["verified"] for r in result} == {"true"}


def test_which_sentence_finds_the_phrase():
    result = rows("which_sentence", text="Strive To Maintain")
    assert [r["span"] for r in result] == ["span-ryabkov-implement"]
    assert "Russia will continue to implement" in result[0]["supports"]


def test_links_out():
    result = {r["entity"]: r for r in rows("links_out")}
    assert result["russia"]["wikidata"] == "http://www.wikidata.org/entity/Q159"
    assert result["russia"]["dbpedia"] == "http://dbpedia.org/resource/Russia"
    assert result["open-skies-treaty"]["wikidata"] == "http://www.wikidata.org/entity/Q1928989"
    assert result["sergei-ryabkov"]["wikidata"] is None  # no checked identifier
    assert result["sergei-ryabkov"]["dbpedia"] is None


def test_entity_search_finds_the_articles_spellings():
    assert [r["entity"] for r in rows("entity_search")] == ["sergei-ryabkov"]  # Libuyakov
    assert [r["entity"] for r in rows("entity_search", name="treinen")] == ["dmitri-trenin"]
    states = rows("entity_search", name="russia", type="osk:State")
    assert [r["entity"] for r in states] == ["russia"]


def test_class_counts_match_the_build_report(asserted):
    expected = count_instances(asserted, namespace=str(OSK))
    result = {
        "https://w3id.org/openskies/ontology/" + r["class"].split("/")[-1]: int(r["instances"])
        for r in rows("class_counts")
    }
    assert result == expected


def test_graph_counts_match_the_source_graphs(asserted):
    result = {r["graph"]: int(r["triples"]) for r in rows("graph_counts")}
    for graph in (Graphs.ONTOLOGY, Graphs.ARTICLE, Graphs.BACKGROUND, Graphs.LINKS):
        assert result[str(graph)] == len(asserted.graph(graph)), graph


# ---------------------------------------------------------------- safe parameters


INJECTION = '" } ; DROP ALL ; #'


@pytest.mark.parametrize(
    ("name", "parameter"), [("entity_search", "name"), ("which_sentence", "text")]
)
def test_an_injection_attempt_is_just_a_string(name, parameter):
    before = len(store())
    assert rows(name, **{parameter: INJECTION}) == []
    assert len(store()) == before
    prepared = prepare(catalog()[name], {parameter: INJECTION})
    assert INJECTION not in prepared.text
    assert prepared.substitutions[f"_{parameter}"] == ox.Literal(INJECTION)


def test_iri_parameters_must_be_absolute_iris():
    assert iri_term("osd:russia") == ox.NamedNode(OSD + "russia")
    for bad in ("russia", "relative/path", "http://exa mple.org/", "<http://a>", ""):
        with pytest.raises(ParameterError):
            iri_term(bad)


def test_parameter_errors_are_clear():
    query = catalog()["statements_by_stance"]
    with pytest.raises(ParameterError, match="not one of"):
        bind(query.parameters, {"stance": STANCE + "happiness"})
    with pytest.raises(ParameterError, match="unknown parameter"):
        bind(query.parameters, {"stnace": STANCE + "regret"})
    adhoc = parse_query("SELECT ?s WHERE { ?s ?p ?_year_integer }", "adhoc")
    with pytest.raises(ParameterError, match="missing required parameter"):
        bind(adhoc.parameters, {})
    with pytest.raises(ParameterError, match="not a valid xsd:integer"):
        bind(adhoc.parameters, {"year": "1992x"})
    bound = bind(adhoc.parameters, {"year": "1992"})
    assert str(bound["_year_integer"]) == '"1992"^^<http://www.w3.org/2001/XMLSchema#integer>'


def test_parameter_kinds_follow_grlc():
    query = parse_query(
        "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
        "SELECT ?s { ?s ?a ?_who_iri ; ?b ?_label_en ; ?c ?_n_number ; ?d ?_day_xsd_date ;"
        " ?e ?__opt }",
        "kinds",
    )
    kinds = {p.name: (p.kind, p.lang, p.datatype, p.numeric, p.required) for p in query.parameters}
    assert kinds == {
        "who": ("iri", None, None, False, True),
        "label": ("literal", "en", None, False, True),
        "n": ("literal", None, None, True, True),
        "day": ("literal", None, "http://www.w3.org/2001/XMLSchema#date", False, True),
        "opt": ("literal", None, None, False, False),
    }
    with pytest.raises(CatalogError):
        parse_query("#+ defaults:\n#+   - nothere: 1\nSELECT ?s { ?s ?p ?_x }", "bad")


def test_ntriples_terms_round_trip_and_reject_smuggling():
    for term in (ox.NamedNode(OSD + "russia"), ox.Literal('a "b"', language="en")):
        assert from_ntriples(str(term)) == term
    for bad in ('"x" . <urn:a> <urn:b> <urn:c>', "_:b0", "russia", '"x"\n<urn:a> <urn:b> "y"'):
        with pytest.raises(ParameterError):
            from_ntriples(bad)


def test_bound_variables_join_the_projection_and_grouping():
    text = 'SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?_x FILTER(?s != "GROUP BY") } GROUP BY ?s'
    rewritten = project_parameters(text, ["_x"])
    assert rewritten.startswith("SELECT ?s (COUNT(*) AS ?n) ?_x WHERE")
    assert rewritten.endswith("GROUP BY ?_x ?s")
    assert project_parameters("SELECT * { ?s ?p ?_x }", ["_x"]) == "SELECT * { ?s ?p ?_x }"
