"""Exact answers (the set of rows) of the catalog questions not covered elsewhere.

Together with test_queries_catalog.py every question of the catalog has its
expected answer from the article checked here, run against the built graph.
"""

import json

import pytest
from test_queries_support import catalog, local_questions, rows

STANCE = "https://w3id.org/openskies/stance/"


def _split(value: str | None, separator: str = "; ") -> set[str]:
    return set(value.split(separator)) if value else set()


def test_date_resolutions_record_every_relative_date():
    result = {
        row["node"]: (row["date"], row["resolvedAgainst"]) for row in rows("date_resolutions")
    }
    # resolvedAgainst is given by label: the dateline's article, or an earlier event.
    notice = "US notice of withdrawal from the Treaty on Open Skies"
    article = '"Open Sky Treaty" faces major challenges'
    meeting = "Video conference of the states parties to the Treaty on Open Skies"
    assert result == {
        "stmt-ryabkov-russia-will-implement": ("2020-05", notice),
        "stmt-ryabkov-accusation-fabricated": ("2020-05", notice),
        "stmt-ryabkov-us-conditions-unacceptable": ("2020-05", notice),
        "stmt-ryabkov-dialogue-not-us-vision": ("2020-05", notice),
        "us-announcement-2020-05-21": ("2020-05-21", article),
        "us-withdrawal-notice-2020-05-22": ("2020-05-22", article),
        "oscc-meeting-2020-07": ("2020-07", meeting),
        "video-conference-2020-07-06": ("2020-07-06", article),
        "october-meeting-2020": ("2020-10", article),
        "us-withdrawal-effective-2020-11-22": ("2020-11-22", notice),
    }


def test_direct_quotes_are_the_six_quoted_statements():
    result = {
        (row["statement"], row["speakerLabel"], row["quote"]) for row in rows("direct_quotes")
    }
    assert result == {
        ("stmt-us-russia-not-abiding", "United States", "Russia did not abide by the treaty"),
        ("stmt-ryabkov-russia-will-implement", "Sergei Ryabkov", "strive to maintain"),
        (
            "stmt-ryabkov-dialogue-not-us-vision",
            "Sergei Ryabkov",
            "We are willing to continue the dialogue and seek consensus, but we are not acting "
            "in accordance with the US government's vision.",
        ),
        ("stmt-ryabkov-us-conditions-unacceptable", "Sergei Ryabkov", "totally unacceptable"),
        (
            "stmt-borrell-regret",
            "Josep Borrell",
            "I regret that the United States announced its withdrawal from the Open Sky Treaty.",
        ),
        (
            "stmt-borrell-treaty-value",
            "Josep Borrell",
            "critical measure for building trust and security ... European and global security "
            "and stability",
        ),
    }
    for row in rows("direct_quotes"):
        assert row["sentence"], row["statement"]


def test_places_and_what_happens_there():
    result = {
        (row["place"], row["stateLabel"], row["what"], row["relation"]) for row in rows("places")
    }
    assert result == {
        ("brussels", "Belgium", "article", "dateline"),
        ("helsinki", "Finland", "signing-1992", "location"),
        ("moscow", "Russia", "carnegie-moscow-center", "location"),
        ("vienna", "Austria", "consultative-commission", "location"),
        ("vienna", "Austria", "oscc-meeting-2020-07", "location"),
        ("vienna", "Austria", "video-conference-2020-07-06", "location"),
        ("vienna", "Austria", "vcdnp", "location"),
    }


def test_speakers_with_their_counts():
    result = {
        row["speaker"]: (row["kind"], int(row["statements"]), int(row["directQuotes"]))
        for row in rows("speakers")
    }
    ministries = {
        f"mfa-{state}": ("government body", 1, 0)
        for state in (
            "belgium",
            "czech-republic",
            "finland",
            "france",
            "germany",
            "italy",
            "luxembourg",
            "netherlands",
            "spain",
            "sweden",
        )
    }
    assert result == {
        "sergei-ryabkov": ("person", 8, 3),
        "josep-borrell": ("person", 3, 2),
        "nikolai-sokov": ("person", 3, 0),
        "dmitri-trenin": ("person", 1, 0),
        "united-states": ("state", 2, 1),
        "us-state-department": ("government body", 1, 0),
        "earlier-analysts": ("group", 1, 0),
        "european-union": ("international organisation", 1, 0),
        **ministries,
    }


def test_stance_overview_counts_statements_per_stance():
    result = {
        row["stance"].removeprefix(STANCE): int(row["statements"])
        for row in rows("stance_overview")
    }
    assert result == {
        "criticism": 3,
        "pessimism": 3,
        "rejection": 3,
        "support": 3,
        "commitment": 2,
        "disengagement": 2,
        "dialogue": 2,
        "optimism": 2,
        "regret": 2,
        "appeal": 1,
        "information": 1,
        "concern": 1,
    }


def test_statements_about_the_treaty():
    result = {row["statement"]: _split(row["stances"], ", ") for row in rows("statements_about")}
    assert result == {
        "stmt-ryabkov-dialogue-equality": {"support", "openness to dialogue"},
        "stmt-us-not-in-interest": {"disengagement"},
        "stmt-us-russia-not-abiding": {"criticism"},
        "stmt-ryabkov-russia-will-implement": {"support", "commitment"},
        "stmt-borrell-treaty-value": {"support"},
        "stmt-joint-continue-implementing": {"commitment"},
        "stmt-trenin-treaty-can-survive": {"optimism"},
        "stmt-sokov-pessimistic": {"pessimism"},
    }
    about_borrell = rows("statements_about", subject="osd:us-withdrawal-notice-2020-05-22")
    assert {row["statement"] for row in about_borrell} == {
        "stmt-analysts-us-may-reverse",
        "stmt-ryabkov-participants-regret",
        "stmt-borrell-call-to-reconsider",
        "stmt-sokov-unilateralism",
        "stmt-eu-concern",
    }


def test_treaty_overview():
    (row,) = rows("treaty_overview")
    assert row["label"] == "Treaty on Open Skies"
    assert _split(row["otherNames"]) == {"Open Skies Treaty", "Open Sky Treaty"}
    assert _split(row["aims"]) == {
        "increase transparency",
        "increase military mutual trust",
        "reduce the risk of conflict",
    }
    assert row["permits"] == "unarmed aerial observation flights over each other's territory"
    assert (row["signed"], row["inForce"], row["parties"]) == ("1992-03-24", "2002-01-01", "34")
    assert row["wikidata"] == "http://www.wikidata.org/entity/Q1928989"


def test_sources_and_how_many_nodes_each_supports():
    result = {row["source"]: (row["kind"], row["url"]) for row in rows("sources")}
    assert result["article"] == ("news article", None)
    assert result["source-osce-open-skies"] == (
        "background source",
        "https://www.osce.org/node/108324",
    )
    assert len(result) == 13
    assert all(
        kind == "background source" for source, (kind, _) in result.items() if source != "article"
    )


@pytest.mark.parametrize("name", local_questions())
def test_cli_and_http_give_the_same_answer(real_client, name):
    from shared_build import built_dir
    from typer.testing import CliRunner

    from openskies.cli import app

    arguments = ["query", "run", name, "--format", "json", "--build-dir", str(built_dir())]
    if catalog()[name].pagination:
        arguments += ["--page", "1"]  # HTTP answers a paginated question one page at a time
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.output)
    response = real_client.get(f"/api/queries/{name}", headers={"accept": "application/json"})
    assert response.status_code == 200, response.text
    from_http = response.json()

    def canonical(document: dict) -> list[str]:
        return sorted(json.dumps(row, sort_keys=True) for row in document["results"]["bindings"])

    assert from_cli["head"]["vars"] == from_http["head"]["vars"]
    assert canonical(from_cli) == canonical(from_http)
