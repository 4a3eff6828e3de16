import factories as f

def test_dump(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org")
        rnd = f.round_(db, registry)
        org = f.registered_organisation(db, amel)
        app = f.application(db, registry, rnd, org, complete=False)
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{app.id}"
    f.sign_in(testapp, "amel@example.org")
    for p in ("", "/@@section/organisation", "/@@section/project", "/@@section/budget", "/@@attachments"):
        open("/tmp/fscratch/page%s.html" % p.replace("/", "_"), "w").write(testapp.get(url + p).text)
    form = testapp.get(url + "/@@section/organisation").forms["section"]
    form["year_founded"] = "two thousand"
    open("/tmp/fscratch/failed.html", "w").write(form.submit("continue", status=400).text)
