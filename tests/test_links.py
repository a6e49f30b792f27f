"""Links out: only identifiers the checked reference confirms, and the gaps listed.

The reference (``shared/reference/identifiers.md``) marks each identifier
VERIFIED, LIKELY or UNKNOWN. A link is allowed when its identifier is
VERIFIED, or is a DBpedia IRI marked LIKELY for a country or city (the file
says those are safe); nothing else may be linked.
"""

import re
from pathlib import Path

import pytest
from rdflib import URIRef
from rdflib.namespace import OWL, RDF

from openskies.vocab import OSD, OSK, Graphs

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "identifiers.md"
COUNTRY_OR_CITY_SECTIONS = ("### States named", "### Other states parties", "### Places")
LINKABLE_CLASSES = (
    OSK.State,
    OSK.Person,
    OSK.GovernmentBody,
    OSK.InternationalOrganization,
    OSK.ResearchCenter,
    OSK.TreatyBody,
    OSK.City,
    OSK.Treaty,
)

# No checked identifier exists for these (the reference marks them UNKNOWN, or
# has only a LIKELY DBpedia title for something that is not a country or city).
EXPECTED_UNLINKED = {
    "sergei-ryabkov",  # Q-ID unknown; DBpedia title only LIKELY
    "nikolai-sokov",
    "vcdnp",
    "mfa-czech-republic",
    "mfa-finland",
    "mfa-france",
    "mfa-germany",
}

# Every VERIFIED identifier of an entity the article names, and where it must point from.
MUST_LINK = {
    "open-skies-treaty": ("wd:Q1928989", "dbr:Treaty_on_Open_Skies"),
    "european-union": ("wd:Q458", "dbr:European_Union"),
    "nato": ("wd:Q7184", "dbr:NATO"),
    "us-state-department": ("wd:Q789915",),
    "consultative-commission": ("dbr:Open_Skies_Consultative_Commission",),
    "josep-borrell": ("dbr:Josep_Borrell",),
    "dmitri-trenin": ("dbr:Dmitri_Trenin",),
    "russian-foreign-ministry": ("dbr:Ministry_of_Foreign_Affairs_(Russia)",),
    "carnegie-endowment": ("dbr:Carnegie_Endowment_for_International_Peace",),
    "carnegie-moscow-center": ("dbr:Carnegie_Moscow_Center",),
    "united-states": ("wd:Q30",),
    "russia": ("wd:Q159",),
    "austria": ("wd:Q40",),
    "belgium": ("wd:Q31",),
    "czech-republic": ("wd:Q213",),
    "finland": ("wd:Q33",),
    "france": ("wd:Q142",),
    "germany": ("wd:Q183",),
    "italy": ("wd:Q38",),
    "luxembourg": ("wd:Q32",),
    "netherlands": ("wd:Q29999",),
    "spain": ("wd:Q29",),
    "sweden": ("wd:Q34",),
    "vienna": ("wd:Q1741",),
    "moscow": ("wd:Q649",),
    "helsinki": ("wd:Q1757",),
    "brussels": ("wd:Q239",),
}
EXPAND = {"wd:": "http://www.wikidata.org/entity/", "dbr:": "http://dbpedia.org/resource/"}


def _expand(short: str) -> URIRef:
    prefix, _, local = short.partition(":")
    return URIRef(EXPAND[prefix + ":"] + local)


def allowed_targets() -> set[str]:
    """Identifiers the reference lets us link, read from its tables."""
    allowed: set[str] = set()
    section = ""
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            section = line
            continue
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        lenient = section.startswith(COUNTRY_OR_CITY_SECTIONS)
        for index, cell in enumerate(cells):
            status = cells[index + 1] if index + 1 < len(cells) else ""
            qid = re.fullmatch(r"\*{0,2}(Q\d+)\*{0,2}.*", cell)
            if qid and (status.startswith("VERIFIED") or section.startswith("### Other states")):
                allowed.add(EXPAND["wd:"] + qid.group(1))
            dbpedia = re.fullmatch(r"(http://dbpedia\.org/resource/\S+)", cell)
            if dbpedia and (status.startswith("VERIFIED") or lenient):
                allowed.add(dbpedia.group(1))
    return allowed


@pytest.fixture(scope="module")
def links(asserted):
    return asserted.graph(Graphs.LINKS)


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference file not found at {REFERENCE}")
def test_every_link_is_confirmed_by_the_reference(links):
    allowed = allowed_targets()
    assert len(allowed) > 60
    unconfirmed = sorted(str(o) for o in links.objects(None, OWL.sameAs) if str(o) not in allowed)
    assert unconfirmed == []


@pytest.mark.parametrize("slug", sorted(MUST_LINK))
def test_verified_identifiers_are_linked_from_the_right_entity(links, slug):
    for target in MUST_LINK[slug]:
        assert (OSD[slug], OWL.sameAs, _expand(target)) in links, (slug, target)
    # and no two of our entities claim the same external identity
    for target in links.objects(OSD[slug], OWL.sameAs):
        assert set(links.subjects(OWL.sameAs, target)) == {OSD[slug]}


def test_entities_without_a_checked_identifier_stay_unlinked(asserted, links):
    entities = {
        subject
        for cls in LINKABLE_CLASSES
        for subject in asserted.subjects(RDF.type, cls)
        if str(subject).startswith(str(OSD))
    }
    unlinked = sorted(
        str(e)[len(str(OSD)) :] for e in entities if (e, OWL.sameAs, None) not in links
    )
    print("entities with no checked Wikidata or DBpedia identifier:", ", ".join(unlinked))
    assert set(unlinked) == EXPECTED_UNLINKED


def test_void_linksets_count_the_links(real_client, links):
    from rdflib import Graph, Namespace

    void = Namespace("http://rdfs.org/ns/void#")
    response = real_client.get("/.well-known/void", headers={"accept": "text/turtle"})
    description = Graph().parse(data=response.text, format="turtle")
    counts = {}
    for linkset in description.subjects(RDF.type, void.Linkset):
        target = str(description.value(linkset, void.objectsTarget))
        counts[target] = int(description.value(linkset, void.triples))
        assert description.value(linkset, void.linkPredicate) == OWL.sameAs
    targets = [str(o) for o in links.objects(None, OWL.sameAs)]
    assert counts == {
        "http://www.wikidata.org/": sum(t.startswith(EXPAND["wd:"]) for t in targets),
        "http://dbpedia.org/": sum(t.startswith(EXPAND["dbr:"]) for t in targets),
    }
    dumps = {str(o) for o in description.objects(None, void.dataDump)}
    assert any(d.endswith("/dumps/openskies.trig") for d in dumps)
