#!/usr/bin/python3
"""The page of `glassbox serve` in a real browser: Debian's chromium, headless, driven by Selenium
through chromium-driver. It loads with no console errors, a photograph put in the file input produces
one overlay per method, switching the target class changes them, comparing two classes draws both, and
a sample offered by the server is explained, and the run browser lists a run and opens it. Screenshots of each state are kept in OUT and checked to hold
a picture (not one flat colour).

usage: test_page.py GLASSBOX_BINARY OUT_DIR
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

GLASSBOX, OUT = sys.argv[1], sys.argv[2]
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(SOURCE, "data/models/face-expression.pt")
PHOTO = os.path.join(SOURCE, "data/faces/astronaut.png")


def fake_run(root):
    """A run directory as glassbox train leaves one: summary, curves, mined confusions with a figure."""
    run = os.path.join(root, "mnist-run")
    os.makedirs(os.path.join(run, "confused"), exist_ok=True)
    json.dump({"val_acc": 0.9655, "epochs": 2, "model": "cnn"}, open(os.path.join(run, "summary.json"), "w"))
    with open(os.path.join(run, "metrics.csv"), "w") as f:
        f.write("step,name,value\n")
        for step in range(0, 200, 10):
            f.write(f"{step},train_loss_step,{2.3 / (1 + step / 20):.4f}\n")
    ranked = [{"rank": 0, "index": 961, "label": 1, "class_a": 1, "class_b": 7, "prob_a": 0.35, "prob_b": 0.34,
               "figure": "rank000-index961.png"}]
    pairs = [[0] * 10 for _ in range(10)]
    pairs[1][7] = 3
    json.dump({"accuracy": 0.97, "data": "mnist", "split": "test", "samples": 100, "ranked": ranked,
               "pair_counts": pairs}, open(os.path.join(run, "confused", "index.json"), "w"))
    shutil.copy(PHOTO, os.path.join(run, "confused", "rank000-index961.png"))
    return root


def png_is_a_picture(path):
    """Reads the screenshot's PNG (8-bit RGB or RGBA, non-interlaced, as chromium writes them) and checks
    it holds many colours."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, width, height, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    channels = {2: 3, 6: 4}[ctype]
    stride = width * channels + 1
    colours = set()
    for y in range(0, height, 7):
        row = raw[y * stride + 1:(y + 1) * stride]  # filter bytes make this approximate, which is enough
        for x in range(0, width, 7):
            colours.add(row[x * channels:x * channels + 3])
    assert width >= 800 and height >= 600, (path, width, height)
    assert len(colours) > 50, f"{path}: only {len(colours)} colours, a blank page?"


def main():
    os.makedirs(OUT, exist_ok=True)
    runs = fake_run(os.path.join(OUT, "runs"))
    samples = os.path.join(OUT, "samples")
    shutil.rmtree(samples, ignore_errors=True)
    os.makedirs(samples)
    shutil.copy("/usr/lib/python3/dist-packages/skimage/data/chelsea.png", os.path.join(samples, "chelsea.png"))
    server = subprocess.Popen([GLASSBOX, "serve", "--model", MODEL, "--name", "faces", "--port", "0", "--runs", runs,
                               "--samples", samples],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for line in server.stdout:
            m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
                break
        assert port, "the server did not say where it listens"
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
            options.add_argument(a)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            run_page(driver, f"http://127.0.0.1:{port}/")
        finally:
            driver.quit()
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0, "SIGTERM did not drain and exit 0"


def run_page(driver, url):
    # The page redraws its overlays as answers arrive: an element read while it is replaced is stale,
    # which means "not yet", not failure.
    wait = WebDriverWait(driver, 120, ignored_exceptions=[StaleElementReferenceException])
    driver.get(url)
    wait.until(lambda d: len(Select(d.find_element(By.ID, "model")).options) == 1)
    assert "faces" in Select(driver.find_element(By.ID, "model")).first_selected_option.text
    checked = [e.get_attribute("value") for e in driver.find_elements(By.CSS_SELECTOR, "#methods input:checked")]
    assert set(checked) == {"saliency", "ig", "smoothgrad", "gradcam"}, checked

    # A photograph: the top classes, then one overlay per checked method.
    driver.find_element(By.ID, "file").send_keys(PHOTO)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#prediction tr")) == 5)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "img.overlay")) == len(checked))
    first = {e.get_attribute("data-method"): e.get_attribute("src") for e in driver.find_elements(By.CSS_SELECTOR, "img.overlay")}
    assert all(src.startswith("data:image/png;base64,") for src in first.values())
    top = driver.find_element(By.CSS_SELECTOR, "#prediction p").text
    assert "happy" in top, top
    driver.save_screenshot(os.path.join(OUT, "1-explained.png"))

    # Another class: every overlay is redrawn for it.
    Select(driver.find_element(By.ID, "target")).select_by_value("2")
    wait.until(lambda d: all(e.get_attribute("data-class") == "2" for e in d.find_elements(By.CSS_SELECTOR, "img.overlay"))
               and len(d.find_elements(By.CSS_SELECTOR, "img.overlay")) == len(checked))
    second = {e.get_attribute("data-method"): e.get_attribute("src") for e in driver.find_elements(By.CSS_SELECTOR, "img.overlay")}
    changed = [m for m in checked if first[m] != second[m]]
    assert len(changed) == len(checked), f"switching the class left {set(checked) - set(changed)} unchanged"
    driver.save_screenshot(os.path.join(OUT, "2-another-class.png"))

    # A sample from the server's folder is explained the same way.
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#samples img.sample")) == 1)
    before = driver.find_element(By.ID, "input-image").get_attribute("src")
    driver.find_element(By.CSS_SELECTOR, "#samples img.sample").click()
    wait.until(lambda d: d.find_element(By.ID, "input-image").get_attribute("src") != before)
    top_class = lambda d: d.find_element(By.CSS_SELECTOR, "#prediction tr").get_attribute("data-class")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "img.overlay")) == len(checked)
               and all(e.get_attribute("data-class") == top_class(d) for e in d.find_elements(By.CSS_SELECTOR, "img.overlay"))
               and all(e.get_attribute("src") not in first.values() for e in d.find_elements(By.CSS_SELECTOR, "img.overlay")))

    # Two classes compared: two overlays.
    Select(driver.find_element(By.ID, "compare-a")).select_by_value("1")
    Select(driver.find_element(By.ID, "compare-b")).select_by_value("6")
    driver.find_element(By.ID, "compare").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#comparison img")) == 2)
    captions = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#comparison figcaption")]
    assert "happy" in captions[0] and "surprised" in captions[1], captions
    driver.execute_script("document.getElementById('comparison').scrollIntoView()")
    driver.save_screenshot(os.path.join(OUT, "3-compared.png"))

    # The run browser lists the run and opens it: curves, the pair matrix, a figure behind a cell.
    driver.find_element(By.ID, "tab-runs").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#run-list li[data-id]")) == 1)
    driver.find_element(By.CSS_SELECTOR, "#run-list li[data-id]").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "svg.chart")) >= 1 and d.find_elements(By.ID, "pair-matrix"))
    driver.find_element(By.CSS_SELECTOR, "#pair-matrix td.clickable").click()
    wait.until(lambda d: any(i.get_attribute("src").startswith("blob:") for i in d.find_elements(By.CSS_SELECTOR, "#confused-detail img")))
    driver.save_screenshot(os.path.join(OUT, "4-run-browser.png"))

    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"console errors: {errors}"
    for name in ("1-explained.png", "2-another-class.png", "3-compared.png", "4-run-browser.png"):
        png_is_a_picture(os.path.join(OUT, name))
    print(f"page checked in chromium; screenshots in {OUT}")


if __name__ == "__main__":
    main()
