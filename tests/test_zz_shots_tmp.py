import io, pytest
from grants.demo import DEMO_PASSWORD, load_demo
pytestmark = pytest.mark.browser
def test_shots(registry, live_server, chromium):
    load_demo(registry, out=io.StringIO())
    ctx = chromium.new_context(viewport={"width": 390, "height": 900})
    p = ctx.new_page()
    p.goto(live_server + "/login")
    p.locator("main input[name=email]").fill("officer@example.org")
    p.locator("main input[name=password]").fill(DEMO_PASSWORD)
    p.locator("main form button[type=submit]").last.click(); p.wait_for_load_state()
    p.goto(live_server + "/programmes/1/rounds/1/awards/1/")
    p.screenshot(path="/tmp/i12l_en390.png", full_page=False)
    p.locator("header summary").click()
    p.screenshot(path="/tmp/i12l_en390menu.png")
    ctx.add_cookies([{"name": "grants_lang", "value": "ar", "url": live_server}])
    p.goto(live_server + "/programmes/1/rounds/1/awards/1/")
    p.screenshot(path="/tmp/i12l_ar390.png")
    p.set_viewport_size({"width": 1366, "height": 800})
    p.screenshot(path="/tmp/i12l_ar1366.png")
    p.goto(live_server + "/organisations/new")
    p.screenshot(path="/tmp/i12l_ar_form.png", full_page=True)
    ctx.close()
