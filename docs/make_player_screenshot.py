"""Write the backprop player's page for the README's digits model and take the picture that
docs/debugging.md shows, in headless chromium (apt-get install chromium chromium-driver;
pip install selenium). Run from the repository root: python docs/make_player_screenshot.py"""
import os
import shutil
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import minikeras as keras
from minikeras import debug, layers
from minikeras.datasets import digits

(x_train, y_train), _ = digits.load_data()
model = keras.Sequential([
    keras.Input(shape=(8, 8)),
    layers.Flatten(),
    layers.Rescaling(1 / 16),
    layers.Dense(16, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
loss_fn = keras.losses.SparseCategoricalCrossentropy()
x, y = x_train[:4].astype("float32"), y_train[:4]
with keras.GradientTape() as tape:
    loss = loss_fn(y, model(x, training=True))

folder = tempfile.mkdtemp(prefix="minikeras-player-")
page = debug.backprop_player(loss, to_file=os.path.join(folder, "backprop.html"))

options = webdriver.ChromeOptions()
options.binary_location = shutil.which("chromium")
for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--window-size=1600,1000", f"--user-data-dir={folder}/profile"]:
    options.add_argument(flag)
browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
browser.get("file://" + page)
body = browser.find_element(By.TAG_NAME, "body")
for _ in range(11):                  # to the Add of the last Dense layer: its bias is summed
    body.send_keys(Keys.ARROW_RIGHT)
browser.save_screenshot(os.path.join("docs", "backprop_player.png"))
print(browser.find_element(By.ID, "card").text)
browser.quit()
shutil.rmtree(folder, ignore_errors=True)
