"""debug.backprop_player: the page's data are the cards of backward_steps, and in a real
headless browser (Debian's chromium, driven by selenium) the keys step the walk."""
import json
import os
import re
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minikeras as keras
from minikeras import debug, layers, ops

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:        # the browser tests skip, saying so
    webdriver = None

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1600,1000"]


def _model_loss():
    """The README's kind of model on a small batch, its loss, and its gradients."""
    model = keras.Sequential([keras.Input(shape=(8, 8)), layers.Flatten(),
                              layers.Rescaling(1 / 16), layers.Dense(6, activation="relu"),
                              layers.Dense(4, activation="softmax")])
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 16, (3, 8, 8)).astype("float32"), np.array([0, 3, 1])
    with keras.GradientTape(persistent=True) as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
    return model, tape, loss


def _data(path):
    page = open(path, encoding="utf-8").read()
    found = re.search(r'<script type="application/json" id="backprop-data">(.*?)</script>',
                      page, re.S)
    return page, json.loads(found.group(1))


def _mean_std(text):
    found = re.fullmatch(r"grad mean (\S+) std (\S+)", text)
    assert found, text
    return float(found.group(1)), float(found.group(2))


def _assert_gradient_text(text, g):
    """The box text of a gradient against the gradient itself (3 significant digits)."""
    a = np.asarray(g.data, np.float64)
    if a.size == 1:
        assert text.startswith("grad = ")
        assert float(text[len("grad = "):]) == pytest.approx(a.item(), rel=6e-4)
        return
    mean, std = _mean_std(text)
    assert mean == pytest.approx(a.mean(), rel=6e-3) and std == pytest.approx(a.std(), rel=6e-3)


def test_the_page_holds_the_cards_of_backward_steps_and_needs_no_network(tmp_path):
    model, tape, loss = _model_loss()
    path = debug.backprop_player(loss, to_file=str(tmp_path / "backprop.html"))
    assert path == str(tmp_path / "backprop.html") and os.listdir(tmp_path) == ["backprop.html"]
    page, data = _data(path)
    steps = list(debug.backward_steps(loss))
    assert len(data["steps"]) == len(steps) > 10
    for card, step in zip(data["steps"], steps):
        text = str(step)
        assert (card["index"], card["total"], card["op"], card["seq"]) == (
            step.index, step.total, step.op, step.node.seq)
        assert card["location"] == step.location and card["source"] == step.source
        assert card["rule"] == step.rule and card["layer"] == (step.node.layer or "")
        assert f"  inputs:     {', '.join(card['inputs'])}" in text
        assert f"  dL/d output: {card['upstream'][0]}" in text
        for name, g in card["grads"]:
            assert f"  -> dL/d {name}: {g}" in text
        for note in card["broadcast"] + card["accumulated"]:
            assert note in text
        assert f'id="{card["box"]}"' in page            # its box is in the drawing
    # each Variable's last gradient text is the gradient tape.gradient gives
    last = {}
    for card in data["steps"]:
        last.update(card["fills"])
    for w, g in zip(model.trainable_weights, tape.gradient(loss, model.trainable_weights)):
        box = re.search(rf'<g class="box tensor variable" id="(t\d+)">.*?>{re.escape(w.path)}<',
                        page).group(1)
        _assert_gradient_text(last[box], g)
    # nothing is fetched: no src= or href=, and the only address is the SVG name space
    assert not re.search(r"\b(src|href)\s*=", page)
    assert set(re.findall(r"https?://[^\s\"')]+", page)) == {"http://www.w3.org/2000/svg"}


def test_the_player_leaves_the_model_and_the_tape_as_they_were(tmp_path):
    model, tape, loss = _model_loss()
    before = [np.array(g.data) for g in tape.gradient(loss, model.trainable_weights)]
    weights = [np.array(w.data) for w in model.trainable_weights]
    debug.backprop_player(loss, to_file=str(tmp_path / "a.html"))
    for g, b in zip(tape.gradient(loss, model.trainable_weights), before):
        np.testing.assert_array_equal(np.asarray(g.data), b)
    for w, b in zip(model.trainable_weights, weights):
        np.testing.assert_array_equal(np.asarray(w.data), b)
        assert w.grad is None


def test_bad_input_says_what_to_do_and_writes_nothing(tmp_path):
    model, tape, loss = _model_loss()
    vector = model(np.ones((2, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"^backprop_player\(\): the target has shape \(2, 4\); "
                                         r"it must be one number \(a loss\)\. Reduce it first"):
        debug.backprop_player(vector, to_file=str(tmp_path / "a.html"))
    with pytest.raises(ValueError, match=r"to_file must end in \.html; got '.*a\.svg'"):
        debug.backprop_player(loss, to_file=str(tmp_path / "a.svg"))
    with pytest.raises(FileNotFoundError, match=r"the folder .*missing of to_file does not "
                                                r"exist; create it first"):
        debug.backprop_player(loss, to_file=str(tmp_path / "missing" / "a.html"))
    assert os.listdir(tmp_path) == []


PROGRAM = st.lists(st.tuples(st.sampled_from(["tanh", "square", "add", "multiply"]),
                              st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=7)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=2), program=PROGRAM)
def test_random_graphs_get_one_box_each_and_every_gradient(tmp_path_factory, shape, program):
    rng = np.random.default_rng(len(program))
    leaf = keras.Tensor(rng.standard_normal(shape).astype("float32"), requires_grad=True)
    weight = keras.Variable(rng.standard_normal(shape).astype("float32"), name="w")
    data = keras.Tensor(rng.standard_normal(shape).astype("float32"))
    pool = [leaf, weight, data]
    with keras.GradientTape() as tape:
        for op, i, j in program:          # each op on tensors made before it, some reused
            x, y = pool[i % len(pool)], pool[j % len(pool)]
            pool.append({"tanh": lambda: ops.tanh(x), "square": lambda: ops.square(x),
                         "add": lambda: x + y, "multiply": lambda: x * y}[op]())
        loss = ops.sum(pool[-1] * pool[-1] + leaf * weight)
    path = str(tmp_path_factory.mktemp("page") / "backprop.html")
    page, data_ = _data(debug.backprop_player(loss, to_file=path))
    boxes = re.findall(r'<g class="box ([^"]*)" id="(\w+)"><rect x="(\d+)" y="(\d+)"', page)
    places = [(int(x), int(y)) for _, _, x, y in boxes]
    assert len(set(places)) == len(places)                   # no two boxes in one place
    for (x1, y1), (x2, y2) in zip(sorted(places, key=lambda p: p[::-1]),
                                  sorted(places, key=lambda p: p[::-1])[1:]):
        assert y1 != y2 or x2 - x1 >= 340                    # side by side, not overlapping
    assert len(data_["steps"]) == len(list(debug.backward_steps(loss)))
    shown = dict(data_["start"])
    for card in data_["steps"]:
        shown.update(card["fills"])
    wanting = {k for cls, k, _, _ in boxes if "tensor" in cls and "data" not in cls}
    assert set(shown) == wanting                             # every gradient arrives
    key = {cls.split()[-1]: k for cls, k, _, _ in boxes if "variable" in cls or "leaf" in cls}
    weight_grad, leaf_grad = tape.gradient(loss, [weight, leaf])
    _assert_gradient_text(shown[key["variable"]], weight_grad)
    _assert_gradient_text(shown[key["leaf"]], leaf_grad)


# ------------------------------------------------------------------ in a real browser

def _skip_reason():
    if webdriver is None:
        return "selenium is not installed (pip install selenium)"
    if CHROMIUM is None or CHROMEDRIVER is None:
        return "chromium or chromedriver is missing (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="minikeras-chromium-")
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _card(driver):
    return (driver.find_element(By.ID, "card-step").text,
            driver.find_element(By.ID, "card-op").text)


def _grad_texts(driver):
    """{box id: (its classes, its gradient text)} for every tensor box on the page."""
    return driver.execute_script(
        "const out = {}; for (const g of document.querySelectorAll('g.tensor')) "
        "out[g.id] = [g.getAttribute('class'), g.querySelector('text.grad').textContent]; "
        "return out;")


def test_the_keys_step_the_walk_in_a_browser(browser, tmp_path):
    model, tape, loss = _model_loss()
    path = debug.backprop_player(loss, to_file=str(tmp_path / "backprop.html"))
    steps = list(debug.backward_steps(loss))
    n, first, last = len(steps), steps[0], steps[-1]
    browser.get("file://" + os.path.abspath(path))
    body = browser.find_element(By.TAG_NAME, "body")
    assert _card(browser) == (f"step 0 of {n}", "Before the first step")

    body.send_keys(Keys.ARROW_RIGHT)
    assert _card(browser) == (f"step 1 of {n}", f"{first.op} #{first.node.seq}")
    lit = browser.find_elements(By.CSS_SELECTOR, "g.box.lit")
    assert [g.get_attribute("id") for g in lit] == [f"n{first.node.seq}"]
    assert _grad_texts(browser)["t0"][1] == "grad = 1"        # dL/dL, at the top

    for _ in range(n):                     # one press more than needed: it stays at the end
        body.send_keys(Keys.ARROW_RIGHT)
    assert _card(browser) == (f"step {n} of {n}", f"{last.op} #{last.node.seq}")
    card = browser.find_element(By.ID, "card").text
    assert last.rule.splitlines()[0] in card and (last.source or "") in card
    texts = _grad_texts(browser)
    assert texts and all(text.startswith("grad") for cls, text in texts.values()
                         if "data" not in cls)
    assert all(text == "needs no gradient" for cls, text in texts.values() if "data" in cls)
    variables = {browser.find_element(By.ID, k).find_element(By.CSS_SELECTOR, "text.head").text:
                 text for k, (cls, text) in texts.items() if "variable" in cls}
    for w, g in zip(model.trainable_weights, tape.gradient(loss, model.trainable_weights)):
        _assert_gradient_text(variables[w.path], g)

    body.send_keys(Keys.ARROW_LEFT)
    assert _card(browser)[0] == f"step {n - 1} of {n}"
    body.send_keys(Keys.HOME)
    assert _card(browser)[0] == f"step 0 of {n}"
    assert all(text in ("", "needs no gradient") for k, (cls, text) in
               _grad_texts(browser).items() if k != "t0")
    browser.find_element(By.ID, "last").click()
    assert _card(browser)[0] == f"step {n} of {n}"
    browser.find_element(By.ID, "previous").click()
    browser.find_element(By.ID, "first").click()
    browser.find_element(By.ID, "next").click()
    assert _card(browser) == (f"step 1 of {n}", f"{first.op} #{first.node.seq}")
    assert browser.get_log("browser") == []                    # no script error
