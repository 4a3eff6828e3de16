"""Uploaded files: checked for size and type from their bytes, kept once per content on
disk, and served only to those who may see what they are attached to."""
from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

import factories as f
from grants.files import FileRefused, store
from grants.files.models import StoredFile
from grants.files.storage import clean_filename, path_for
from grants.workflow.engine import plain

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
ODT = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"})
ODS = zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<office/>"})


def reasons(refused) -> list[str]:
    return [plain(r) for r in refused.value.reasons]


def files_on_disk(settings) -> list[Path]:
    root = Path(settings["grants.files_dir"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# -- storing ----------------------------------------------------------------------------------


def test_the_same_bytes_uploaded_twice_are_kept_once_on_disk(db, settings):
    amel, sami = f.user(db), f.user(db)
    first = store(db, settings, filename="budget.pdf", data=f.PDF, uploaded_by=amel)
    second = store(db, settings, filename="budget (copy).pdf", data=f.PDF, uploaded_by=sami)
    assert first.id != second.id and first.sha256 == second.sha256
    assert (first.filename, second.filename) == ("budget.pdf", "budget (copy).pdf")
    assert (first.uploaded_by_id, second.uploaded_by_id) == (amel.id, sami.id)
    assert files_on_disk(settings) == [path_for(settings, first)]  # one blob, no temporary file left behind
    assert path_for(settings, first).read_bytes() == f.PDF
    assert path_for(settings, first).name == first.sha256


@pytest.mark.parametrize("filename, data, content_type", [
    ("certificate.pdf", f.PDF, "application/pdf"),
    ("scan.PNG", PNG, "image/png"),
    ("photo.jpeg", JPEG, "image/jpeg"),
    ("photo.jpg", JPEG, "image/jpeg"),
    ("plan.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("budget.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("plan.odt", ODT, "application/vnd.oasis.opendocument.text"),
    ("budget.ods", ODS, "application/vnd.oasis.opendocument.spreadsheet"),
    ("budget.csv", "poste;montant\nLoyer;1 200,000\nقاعة;٣٠٠\n".encode(), "text/csv; charset=utf-8"),
    ("notes.txt", "\ufeffملاحظات\tnotes\r\n".encode("utf-8"), "text/plain; charset=utf-8"),
])
def test_accepted_kinds_are_recognised_from_their_bytes(db, settings, filename, data, content_type):
    assert store(db, settings, filename=filename, data=data).content_type == content_type


@pytest.mark.parametrize("filename, data, message", [
    ("setup.exe", EXE, "The file “setup.exe” is not a PDF, image, spreadsheet or document we accept."),
    ("invoice.pdf", EXE, "The file “invoice.pdf” is not a PDF, image, spreadsheet or document we accept."),
    ("budget", f.PDF, "The file “budget” is not a PDF, image, spreadsheet or document we accept."),
    ("archive.zip", zipped({"a.txt": b"x"}), "The file “archive.zip” is not a PDF, image, spreadsheet or document "
                                             "we accept."),
    ("plan.docx", f.PDF, "The file “plan.docx” is named like a Word document but is not one: save it again as a "
                         "Word document, or choose another file."),
    ("budget.xlsx", DOCX, "The file “budget.xlsx” is named like an Excel spreadsheet but is not one: save it again "
                          "as an Excel spreadsheet, or choose another file."),
    ("budget.csv", "poste;montant\nLoyer;1200\n".encode("cp1256") + b"\xe9\xff", "The file “budget.csv” is not a "
                                                                                 "PDF, image, spreadsheet or document "
                                                                                 "we accept."),
    ("empty.pdf", b"", "The file “empty.pdf” is empty: choose the file again."),
])
def test_what_we_do_not_accept_is_refused_with_a_reason_and_nothing_is_kept(db, settings, filename, data, message):
    with pytest.raises(FileRefused) as refused:
        store(db, settings, filename=filename, data=data)
    assert reasons(refused) == [message]
    assert db.scalar(select(func.count(StoredFile.id))) == 0
    assert files_on_disk(settings) == []


def test_a_file_over_the_limit_is_refused_with_both_sizes(db, settings):
    with pytest.raises(FileRefused) as refused:
        store(db, settings, filename="scan.pdf", data=b"%PDF-" + b"0" * (14 * 1024 * 1024 - 5))
    assert reasons(refused) == ["The file is 14 MB; the largest accepted is 10 MB."]
    small = {**settings, "grants.max_upload_bytes": str(1024 * 1024)}
    with pytest.raises(FileRefused) as refused:
        store(db, small, filename="scan.pdf", data=b"%PDF-" + b"0" * (1024 * 1024 + 100 * 1024))
    assert reasons(refused) == ["The file is 1.1 MB; the largest accepted is 1 MB."]
    assert files_on_disk(settings) == []


@pytest.mark.parametrize("typed, kept", [
    ("C:\\Users\\amel\\Desktop\\budget.pdf", "budget.pdf"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("شهادة التسجيل.pdf", "شهادة التسجيل.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),  # a right-to-left override cannot disguise the extension
    ("  budget  2019 .pdf", "budget 2019 .pdf"),
    ("", "document"),
])
def test_filenames_keep_what_the_person_called_them_without_paths_or_tricks(typed, kept):
    assert clean_filename(typed) == kept


# -- serving -----------------------------------------------------------------------------------


def _application_with_documents(db, registry, *, blind=False, state="submitted"):
    amel = f.user(db, email="amel@example.org")
    f.user(db, email="stranger@example.org")
    officer = f.user(db, email="officer@example.org")
    rnd = f.round_(db, registry)
    rnd.blind_review = blind
    f.grant_role(db, officer, "programme_officer", rnd.programme)
    app = f.application(db, registry, rnd, f.organisation(db, amel), state=state)
    by_kind = {a.kind: a for a in app.attachments}
    base = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{app.id}"
    return app, base, by_kind


def test_the_applicant_and_the_officer_download_a_document_as_an_attachment(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        app, base, docs = _application_with_documents(db, registry)
        budget_url = f"{base}/@@attachment/{docs['budget'].id}"
    f.sign_in(testapp, "amel@example.org")
    response = testapp.get(budget_url)
    assert response.body == f.PDF
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="budget.pdf"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    testapp.reset()
    f.sign_in(testapp, "officer@example.org")
    assert testapp.get(budget_url).body == f.PDF


def test_a_member_of_another_organisation_cannot_download_it(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        app, base, docs = _application_with_documents(db, registry)
        url = f"{base}/@@attachment/{docs['registration_certificate'].id}"
    response = testapp.get(url, status=302)  # anonymous: sign in first
    assert "/login" in response.location
    f.sign_in(testapp, "stranger@example.org")
    testapp.get(url, status=403)


def test_an_attachment_is_only_found_under_its_own_application(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        app, base, docs = _application_with_documents(db, registry)
        amel = app.organisation.memberships[0].user
        second = f.application(db, registry, app.round, f.organisation(db, amel), title="Youth centre in Gabès")
        other_doc = second.attachments[0].id
    f.sign_in(testapp, "amel@example.org")
    testapp.get(f"{base}/@@attachment/{other_doc}", status=404)
    testapp.get(f"{base}/@@attachment/999999", status=404)
    testapp.get(f"{base}/@@attachment/budget", status=404)


def test_a_reviewer_of_a_blind_round_never_gets_the_documents_that_name_the_organisation(testapp, registry):
    from grants.review.models import ReviewAssignment

    with registry.database.transaction() as (_tm, db):
        app, base, docs = _application_with_documents(db, registry, blind=True, state="eligible")
        reviewer = f.user(db, email="reviewer@example.org")
        db.add(ReviewAssignment(application_id=app.id, reviewer_id=reviewer.id, conflict=False))
        certificate = f"{base}/@@attachment/{docs['registration_certificate'].id}"
        budget = f"{base}/@@attachment/{docs['budget'].id}"
    f.sign_in(testapp, "reviewer@example.org")
    assert testapp.get(budget).body == f.PDF
    testapp.get(certificate, status=404)
    testapp.reset()
    f.sign_in(testapp, "officer@example.org")  # officers see who applied, blind round or not
    assert testapp.get(certificate).body == f.PDF


# -- ZIP bombs ------------------------------------------------------------------------------------


@functools.cache
def zip_bomb(inflated: int = 300 * 1024 * 1024) -> bytes:
    """An OpenDocument-looking archive whose ``mimetype`` entry inflates to ``inflated``
    bytes of zeros (about 300 KB on the wire), written a megabyte at a time so that the
    test itself never holds it inflated."""
    buffer = io.BytesIO()
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("mimetype", "w") as entry:
            for _ in range(inflated // len(zeros)):
                entry.write(zeros)
        archive.writestr("content.xml", b"<office/>")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zip_bomb()


BOMB_REFUSED = ("The file “plan.odt” would expand to far more than a real document when opened, so it was not "
                "accepted: save it again from your office program, or as a PDF, and choose it again.")


def test_a_zip_bomb_uploaded_as_a_document_is_refused_without_inflating_it(testapp, registry, settings, bomb):
    import tracemalloc

    from grants.applications.models import Application

    assert len(bomb) < 1024 * 1024
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org")
        app = f.application(db, registry, f.round_(db, registry), f.organisation(db, amel), complete=False)
        url = f"/programmes/{app.round.programme_id}/rounds/{app.round_id}/applications/{app.id}/@@attachments"
        app_id = app.id
    f.sign_in(testapp, "amel@example.org")
    form = testapp.get(url).forms["attachments"]
    form["budget"] = ("plan.odt", bomb, "application/vnd.oasis.opendocument.text")
    tracing = tracemalloc.is_tracing()  # already, under PYTHONTRACEMALLOC
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before, _peak = tracemalloc.get_traced_memory()
    try:
        refused = form.submit("continue", status=400)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        if not tracing:
            tracemalloc.stop()
    grew = peak - before
    assert grew < 32 * 1024 * 1024, f"{grew / 1024 / 1024:.0f} MB more while checking a {len(bomb)} byte upload"
    assert BOMB_REFUSED in refused.html.find(id="error-attachments-budget").get_text()
    with registry.database.transaction() as (_tm, db):
        assert db.get(Application, app_id).attachments == []
        assert db.scalar(select(func.count(StoredFile.id))) == 0
    assert files_on_disk(settings) == []


def test_the_zip_bomb_is_refused_in_french_too(testapp, registry, bomb):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", locale="fr")
        app = f.application(db, registry, f.round_(db, registry), f.organisation(db, amel), complete=False)
        url = f"/programmes/{app.round.programme_id}/rounds/{app.round_id}/applications/{app.id}/@@attachments"
    f.sign_in(testapp, "amel@example.org")
    form = testapp.get(url).forms["attachments"]
    form["budget"] = ("plan.odt", bomb, "application/vnd.oasis.opendocument.text")
    refused = form.submit("continue", status=400)
    message = refused.html.find(id="error-attachments-budget").get_text()
    assert message.strip() == ("Le fichier « plan.odt » prendrait, une fois ouvert, bien plus de place qu’un vrai "
                               "document : il n’a donc pas été accepté. Enregistrez-le de nouveau depuis votre "
                               "logiciel de bureautique, ou en PDF, puis choisissez-le de nouveau.")



def _submit_upload(client, url, field, values=()):
    """Choose the bomb in the page's form that has ``field``, fill ``values``, submit."""
    import webtest

    page = client.get(url)
    form = next(form for key, form in page.forms.items() if isinstance(key, int) and field in form.fields)
    form[field] = webtest.Upload("plan.odt", zip_bomb(), "application/vnd.oasis.opendocument.text")
    for name, value in values:
        form[name] = value
    submit = [name for name in ("submit", "save") if name in form.fields]
    return form.submit(*submit[:1], status=400)


def test_every_upload_route_refuses_the_zip_bomb_and_keeps_nothing(app, registry, settings):
    """Award agreements, assessments, survey results and evidence go through the same
    check as application documents."""
    import webtest

    from grants.mel import surveys

    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org")
        member = f.user(db, email="amel@example.org")
        eva = f.user(db, email="eva@example.org")
        award = f.award(db, registry, org=f.organisation(db, member, name="Association Afek"))
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        f.grant_role(db, eva, "evaluator", award.round)
        instrument = surveys.create_instrument(db, code="belonging", title="Belonging", items=[
            {"code": "q1", "text": "I belong here.", "scale": 5,
             "labels": ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]}])
        surveys.attach_instrument(db, award.round, instrument, ["baseline"])
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}"
        instrument_id = instrument.id
        stored_before = db.scalar(select(func.count(StoredFile.id)))
    on_disk_before = files_on_disk(settings)

    def signed_in(email):
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
        f.sign_in(client, email)
        return client

    officer_app, member_app, eva_app = signed_in("leila@example.org"), signed_in("amel@example.org"), \
        signed_in("eva@example.org")
    pages = [
        _submit_upload(officer_app, url + "/@@agreement", "agreement"),
        _submit_upload(eva_app, url + "/@@assessment", "file-1", [("summary", "Good work.")]),
        _submit_upload(member_app, url + "/@@surveys", "file"),
        _submit_upload(member_app, url + "/@@evidence", "file", [("kind", "success_story"), ("title", "A story"),
                                                                  ("text", "Told.")]),
    ]
    for page in pages:
        summary = page.html.find(class_="error-summary")
        assert summary is not None and BOMB_REFUSED in summary.get_text(" ", strip=True), (page.request.url, page.text)
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count(StoredFile.id))) == stored_before
    assert files_on_disk(settings) == on_disk_before


def _archive(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def test_an_archive_is_refused_for_its_compression_ratio_entry_size_total_size_or_entry_count(db, settings,
                                                                                               monkeypatch):
    from grants.files import storage

    xml = b"".join(b"<row r='%d'><c>%d</c></row>" % (i, i * 7919 % 1000) for i in range(120_000))  # ~3 MB, ~10:1
    real = _archive([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>"),
                     ("xl/worksheets/sheet1.xml", xml)])
    assert store(db, settings, filename="budget.xlsx", data=real).content_type.endswith("spreadsheetml.sheet")

    zeros = _archive([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", bytes(4 * 1024 * 1024))])
    many = _archive([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w/>")]
                    + [(f"word/media/{i}.xml", b"") for i in range(storage.MAX_ZIP_ENTRIES)], zipfile.ZIP_STORED)
    for data in (zeros, many):
        with pytest.raises(FileRefused) as refused:
            store(db, settings, filename="plan.docx", data=data)
        assert reasons(refused) == [BOMB_REFUSED.replace("plan.odt", "plan.docx")]

    monkeypatch.setattr(storage, "MAX_ENTRY_BYTES", 2 * 1024 * 1024)  # the real xlsx's sheet is larger
    with pytest.raises(FileRefused):
        store(db, settings, filename="budget.xlsx", data=real)
    monkeypatch.setattr(storage, "MAX_ENTRY_BYTES", 256 * 1024 * 1024)
    monkeypatch.setattr(storage, "MAX_ARCHIVE_BYTES", len(xml) - 1)
    with pytest.raises(FileRefused):
        store(db, settings, filename="budget.xlsx", data=real)
    assert files_on_disk(settings) == [path_for(settings, db.scalars(select(StoredFile)).one())]


def test_an_opendocument_mimetype_is_read_only_as_far_as_a_mimetype_goes(db, settings):
    long_mimetype = _archive([("mimetype", b"application/vnd.oasis.opendocument.text" + b" " * 1000),
                              ("content.xml", b"<office/>")])
    with pytest.raises(FileRefused) as refused:
        store(db, settings, filename="plan.odt", data=long_mimetype)
    assert reasons(refused) == ["The file “plan.odt” is not a PDF, image, spreadsheet or document we accept."]


def test_an_upload_over_the_limit_is_read_no_further_than_the_limit(settings):
    from grants.files import read_upload

    class Field:
        def __init__(self, data):
            self.file = io.BytesIO(data)

    small = {**settings, "grants.max_upload_bytes": str(1024 * 1024)}
    field = Field(b"%PDF-" + bytes(3 * 1024 * 1024))
    with pytest.raises(FileRefused) as refused:
        read_upload(field, small)
    assert reasons(refused) == ["The file is 3.1 MB; the largest accepted is 1 MB."]
    assert read_upload(Field(f.PDF), small) == f.PDF


def test_a_reviewer_of_a_blind_round_reads_neutral_document_names_in_links_and_downloads(testapp, registry):
    """File names often carry the applicant's name; a blind round's reviewer never sees
    them, in the page's links or in the download's Content-Disposition."""
    from grants.review.models import ReviewAssignment

    with registry.database.transaction() as (_tm, db):
        app, base, docs = _application_with_documents(db, registry, blind=True, state="eligible")
        docs["budget"].file = store(db, registry.settings, filename="Budget AFEK Kebili 2019.pdf", data=f.PDF)
        reviewer = f.user(db, email="reviewer@example.org", locale="fr")
        db.add(ReviewAssignment(application_id=app.id, reviewer_id=reviewer.id, conflict=False))
        budget = f"{base}/@@attachment/{docs['budget'].id}"
    f.sign_in(testapp, "reviewer@example.org")
    page = testapp.get(base)
    assert "AFEK" not in page.html.find("main").get_text()
    link = page.html.find("a", href=lambda h: h and h.endswith(f"attachment/{docs['budget'].id}"))
    assert link.get_text(strip=True) == "Document 2 — Tableau budgétaire.pdf"
    download = testapp.get(budget)
    assert download.body == f.PDF
    disposition = download.headers["Content-Disposition"]
    assert "AFEK" not in disposition
    assert disposition.endswith("filename*=UTF-8''Document%202%20%E2%80%94%20Tableau%20budg%C3%A9taire.pdf")
    testapp.reset()
    f.sign_in(testapp, "officer@example.org")  # the officer knows who applied: the name as uploaded
    assert 'filename="Budget AFEK Kebili 2019.pdf"' in testapp.get(budget).headers["Content-Disposition"]
    assert "Budget AFEK Kebili 2019.pdf" in testapp.get(base).html.find("main").get_text()
