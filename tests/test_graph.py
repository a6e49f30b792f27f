"""What the article's graph holds: every entity present, typed, labelled and sourced."""

import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from openskies.graph.article import article_text, broken_spans, spans_in
from openskies.vocab import OA, OSD, OSK, STANCE, Graphs

ARTICLE_STATES = {
    "united-states": "United States",
    "russia": "Russia",
    "austria": "Austria",
    "belgium": "Belgium",
    "czech-republic": "Czech Republic",
    "finland": "Finland",
    "france": "France",
    "germany": "Germany",
    "italy": "Italy",
    "luxembourg": "Luxembourg",
    "netherlands": "Kingdom of the Netherlands",
    "spain": "Spain",
    "sweden": "Sweden",
}
JOINT_STATEMENT_STATES = set(ARTICLE_STATES) - {"united-states", "russia", "austria"}

PEOPLE = {
    # slug: (label, article spelling, role name, institution)
    "sergei-ryabkov": (
        "Sergei Ryabkov",
        "Libuyakov",
        "Deputy Foreign Minister",
        "russian-foreign-ministry",
    ),
    "josep-borrell": (
        "Josep Borrell",
        "Borelli",
        "High Representative of the Union for Foreign Affairs and Security Policy",
        "european-union",
    ),
    "dmitri-trenin": ("Dmitri Trenin", "Dmitry Treinen", "Director", "carnegie-moscow-center"),
    "nikolai-sokov": ("Nikolai Sokov", None, "Senior Fellow", "vcdnp"),
}

INSTITUTIONS = {
    "us-state-department": OSK.GovernmentBody,
    "russian-foreign-ministry": OSK.GovernmentBody,
    "european-union": OSK.InternationalOrganization,
    "nato": OSK.InternationalOrganization,
    "carnegie-moscow-center": OSK.ResearchCenter,
    "carnegie-endowment": OSK.ResearchCenter,
    "vcdnp": OSK.ResearchCenter,
    "consultative-commission": OSK.TreatyBody,
    **{f"mfa-{slug}": OSK.GovernmentBody for slug in JOINT_STATEMENT_STATES},
}

EVENTS = {
    # slug: (class, date literal, place or None)
    "signing-1992": (OSK.Signing, Literal("1992", datatype=XSD.gYear), None),
    "entry-into-force-2002": (OSK.EntryIntoForce, Literal("2002", datatype=XSD.gYear), None),
    "us-announcement-2020-05-21": (
        OSK.Announcement,
        Literal("2020-05-21", datatype=XSD.date),
        None,
    ),
    "us-withdrawal-notice-2020-05-22": (
        OSK.WithdrawalNotice,
        Literal("2020-05-22", datatype=XSD.date),
        None,
    ),
    "video-conference-2020-07-06": (
        OSK.Meeting,
        Literal("2020-07-06", datatype=XSD.date),
        "vienna",
    ),
    "oscc-meeting-2020-07": (
        OSK.PlannedMeeting,
        Literal("2020-07", datatype=XSD.gYearMonth),
        "vienna",
    ),
    "october-meeting-2020": (OSK.PlannedMeeting, Literal("2020-10", datatype=XSD.gYearMonth), None),
    "us-withdrawal-effective-2020-11-22": (
        OSK.WithdrawalTakingEffect,
        Literal("2020-11-22", datatype=XSD.date),
        None,
    ),
}


@pytest.fixture(scope="module")
def article(asserted: Dataset):
    return asserted.graph(Graphs.ARTICLE)


def assert_sourced(graph, node: URIRef) -> None:
    assert (node, OSK.source, OSD.article) in graph, f"{node} does not cite the article"
    spans = list(graph.objects(node, OSK.evidence))
    assert spans, f"{node} has no evidence span"
    for span in spans:
        assert (span, RDF.type, OSK.TextSpan) in graph
        assert (span, OA.hasSource, OSD.article) in graph


def test_every_span_round_trips_against_the_stored_article(asserted: Dataset):
    spans = spans_in(asserted)
    assert len(spans) >= 35
    assert broken_spans(asserted) == []
    text = article_text()
    for span in spans:
        assert text[span.start : span.end] == span.exact


def test_a_shifted_span_is_reported_as_broken(article):
    text = article_text()
    shifted = text[1:]
    assert broken_spans(article, shifted), "spans must be checked against exact offsets"


def test_article_node_carries_the_stored_text_and_dateline(article):
    assert (OSD.article, OSK.fullText, Literal(article_text())) in article
    assert (OSD.article, OSK.dateline, OSD.brussels) in article
    published = article.value(OSD.article, URIRef("https://schema.org/datePublished"))
    assert published == Literal("2020-07-07", datatype=XSD.date)


@pytest.mark.parametrize("slug,label", sorted(ARTICLE_STATES.items()))
def test_each_state_named_in_the_article_is_typed_labelled_and_sourced(article, slug, label):
    state = OSD[slug]
    assert (state, RDF.type, OSK.State) in article
    assert (state, RDFS.label, Literal(label, lang="en")) in article
    assert_sourced(article, state)


@pytest.mark.parametrize("slug", sorted(PEOPLE))
def test_each_person_has_real_name_article_spelling_and_post(article, slug):
    label, spelling, role, institution = PEOPLE[slug]
    person = OSD[slug]
    assert (person, RDF.type, OSK.Person) in article
    assert (person, RDFS.label, Literal(label, lang="en")) in article
    if spelling:
        assert (person, SKOS.altLabel, Literal(spelling, lang="en")) in article
        assert spelling in article_text()
    assert_sourced(article, person)
    posts = list(article.objects(person, OSK.holdsPosition))
    assert len(posts) == 1
    post = posts[0]
    assert (post, OSK.holder, person) in article
    assert (post, OSK.roleName, Literal(role)) in article
    assert (post, OSK.positionAt, OSD[institution]) in article
    held = article.value(post, OSK.heldOn)
    assert held is not None and held.datatype == XSD.date
    assert_sourced(article, post)


@pytest.mark.parametrize("slug,cls", sorted(INSTITUTIONS.items()))
def test_each_institution_is_typed_labelled_and_sourced(article, slug, cls):
    institution = OSD[slug]
    assert (institution, RDF.type, cls) in article
    assert article.value(institution, RDFS.label) is not None
    assert_sourced(article, institution)


def test_foreign_ministries_serve_their_states(article):
    for slug in JOINT_STATEMENT_STATES:
        assert (OSD[f"mfa-{slug}"], OSK.servesState, OSD[slug]) in article
    assert (OSD["us-state-department"], OSK.servesState, OSD["united-states"]) in article
    assert (
        OSD["carnegie-moscow-center"],
        OSK.parentOrganization,
        OSD["carnegie-endowment"],
    ) in article


@pytest.mark.parametrize("slug", sorted(EVENTS))
def test_each_event_has_its_date_and_place(article, slug):
    cls, date, place = EVENTS[slug]
    event = OSD[slug]
    assert (event, RDF.type, cls) in article
    assert (event, OSK.date, date) in article
    if place:
        assert (event, OSK.location, OSD[place]) in article
    assert_sourced(article, event)


def test_relative_dates_record_how_they_were_resolved(article):
    for slug in (
        "oscc-meeting-2020-07",
        "october-meeting-2020",
        "us-withdrawal-effective-2020-11-22",
    ):
        event = OSD[slug]
        assert article.value(event, OSK.dateResolution) is not None
        assert article.value(event, OSK.resolvedAgainst) is not None
    assert (
        OSD["oscc-meeting-2020-07"],
        OSK.earliestDate,
        Literal("2020-07-13", datatype=XSD.date),
    ) in article


def test_every_statement_has_speaker_stance_quote_flag_and_evidence(article):
    statements = set(article.subjects(RDF.type, OSK.Statement)) | set(
        article.subjects(RDF.type, OSK.JointStatement)
    )
    assert len(statements) >= 18
    stances = set(article.objects(None, OSK.stance))
    assert {
        STANCE.regret,
        STANCE.support,
        STANCE.rejection,
        STANCE.pessimism,
        STANCE.commitment,
    } <= stances
    for statement in statements:
        assert list(article.objects(statement, OSK.speaker)), statement
        assert list(article.objects(statement, OSK.stance)), statement
        flag = article.value(statement, OSK.isDirectQuote)
        assert flag is not None and flag.datatype == XSD.boolean, statement
        assert article.value(statement, OSK.content) is not None, statement
        assert_sourced(article, statement)


def test_the_joint_statement_has_all_ten_ministries_as_speakers(article):
    joint = OSD["stmt-joint-continue-implementing"]
    assert (joint, RDF.type, OSK.JointStatement) in article
    speakers = set(article.objects(joint, OSK.speaker))
    assert speakers == {OSD[f"mfa-{slug}"] for slug in JOINT_STATEMENT_STATES}
    assert (joint, OSK.stance, STANCE.commitment) in article


def test_direct_quotes_appear_verbatim_in_their_span(asserted):
    article = asserted.graph(Graphs.ARTICLE)
    spans = {span.iri: span for span in spans_in(article)}
    for statement in article.subjects(OSK.isDirectQuote, Literal(True)):
        content = str(article.value(statement, OSK.content)).split(" ... ")
        quoted = " ".join(spans[s].exact for s in article.objects(statement, OSK.evidence))
        for part in content:
            assert part.replace("'", "’") in quoted or part in quoted, (statement, part)


def test_treaty_permits_observation_flights_has_aims_and_us_condition(article):
    treaty = OSD["open-skies-treaty"]
    assert (treaty, OSK.permits, OSD["unarmed-observation-flights"]) in article
    assert len(list(article.objects(treaty, OSK.aim))) == 3
    notice = OSD["us-withdrawal-notice-2020-05-22"]
    assert (notice, OSK.unlessCondition, OSD["condition-russia-reimplements"]) in article


def test_background_lists_the_34_states_parties_with_sources(asserted):
    background = asserted.graph(Graphs.BACKGROUND)
    parties = set(background.subjects(OSK.partyTo, OSD["open-skies-treaty"]))
    assert len(parties) == 34
    assert OSD.austria not in parties
    assert (OSD.kyrgyzstan, OSK.signatoryOf, OSD["open-skies-treaty"]) in background
    assert OSD.kyrgyzstan not in parties
    assert (
        OSD["signing-1992"],
        OSK.preciseDate,
        Literal("1992-03-24", datatype=XSD.date),
    ) in background
    assert (OSD["signing-1992"], OSK.location, OSD.helsinki) in background
    for source in background.objects(None, OSK.source):
        assert (source, RDF.type, OSK.BackgroundSource) in background


def test_links_use_only_wikidata_and_dbpedia_iris(asserted):
    links = asserted.graph(Graphs.LINKS)
    targets = list(links.objects(None, OWL.sameAs))
    assert len(targets) > 60
    for target in targets:
        assert str(target).startswith(
            ("http://www.wikidata.org/entity/Q", "http://dbpedia.org/resource/")
        )
    assert (OSD.netherlands, OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q29999")) in links
    # No checked identifier exists for these: they must stay unlinked.
    for slug in ("sergei-ryabkov", "nikolai-sokov", "vcdnp"):
        assert not list(links.objects(OSD[slug], OWL.sameAs))


def test_every_ontology_term_used_by_the_data_is_declared(asserted):
    ontology = asserted.graph(Graphs.ONTOLOGY)
    used = set()
    for graph_iri in (Graphs.ARTICLE, Graphs.BACKGROUND):
        for _, predicate, obj in asserted.graph(graph_iri):
            used.add(predicate)
            if predicate == RDF.type:
                used.add(obj)
    for term in used:
        if str(term).startswith(str(OSK)):
            assert (term, RDFS.label, None) in ontology, f"{term} is used but not declared"
