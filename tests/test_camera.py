"""The image widget's camera (`camera: true`), fed by Chromium's fake capture device.

Chromium plays a .y4m file as its camera (`--use-file-for-fake-video-capture`);
the file is written here from the repo's sample pictures, so what the camera
shows is known. getUserMedia is Chromium's own: the page only records the
streams it hands out (STREAM_PROBE), to check that their tracks end.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from mkdocs_tfjs.preprocess import composite_on_white, preprocess_image

from .conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    Project,
    inferences,
    page_opener,
    place,
    wait_idle_after,
)

EMOJI_MODEL = ROOT / "models" / "emoji" / "classifier.keras"
CLASSES = ROOT / "models" / "emoji" / "classes.json"
PICTURES = sorted((ROOT / "docs" / "img").glob("twemoji-*.png"))
FRAMES_PER_PICTURE = 15  # half a second at 30 frames per second
WIDGET = "cam"
INSECURE_HOST = (
    "camera.test"  # resolved to 127.0.0.1 by the browser: plain http, not a secure context
)

# Every stream getUserMedia hands the page, kept to check its tracks later
# (the call itself is Chromium's).
STREAM_PROBE = """
window.__streams = [];
if (window.MediaDevices) {  // none on an insecure page
    const getUserMedia = MediaDevices.prototype.getUserMedia;
    MediaDevices.prototype.getUserMedia = function (...args) {
        return getUserMedia.apply(this, args).then((stream) => {
            window.__streams.push(stream);
            return stream;
        });
    };
}
"""

RELEASED = """id => window.__streams.length > 0
    && window.__streams.every(s => s.getTracks().every(t => t.readyState === 'ended'))
    && (!document.getElementById(id)
        || document.querySelector('#' + id + ' video').srcObject === null)"""


# -- the video: BT.601 studio-range YUV 4:2:0, what Chromium's fake camera decodes ----------


def pictures_on_white() -> list[np.ndarray]:
    """The sample pictures as the file input sees them: RGBA composited on white, 8-bit RGB."""
    from PIL import Image

    out = []
    for path in PICTURES:
        with Image.open(path) as image:
            rgba = np.asarray(image.convert("RGBA")).astype(float)
        out.append(np.clip(np.round(composite_on_white(rgba)), 0, 255).astype(np.uint8))
    return out


def rgb_to_i420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 studio range; chroma averaged over 2 x 2 blocks."""
    r, g, b = (rgb[..., i].astype(float) for i in range(3))
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    height, width = y.shape

    def half(c):
        return c.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))

    def byte(c):
        return np.clip(np.round(c), 0, 255).astype(np.uint8)

    return byte(y), byte(half(u)), byte(half(v))


def i420_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The RGB a BT.601 studio-range decoder gives, chroma repeated over its 2 x 2 block."""
    c = y.astype(float) - 16
    d = np.repeat(np.repeat(u.astype(float) - 128, 2, 0), 2, 1)
    e = np.repeat(np.repeat(v.astype(float) - 128, 2, 0), 2, 1)
    rgb = np.stack(
        [1.164 * c + 1.596 * e, 1.164 * c - 0.392 * d - 0.813 * e, 1.164 * c + 2.017 * d], -1
    )
    return np.clip(rgb, 0, 255)


def write_y4m(path, pictures: list[np.ndarray]) -> list[np.ndarray]:
    """Write each picture for FRAMES_PER_PICTURE frames; return the RGB each one encodes."""
    height, width = pictures[0].shape[:2]
    encoded = []
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in pictures:
            planes = rgb_to_i420(rgb)
            encoded.append(i420_to_rgb(*planes))
            frame = b"FRAME\n" + b"".join(p.tobytes() for p in planes)
            f.write(frame * FRAMES_PER_PICTURE)
    return encoded


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """The camera's video file, the pictures on white, and the RGB its frames encode."""
    pictures = pictures_on_white()
    path = tmp_path_factory.mktemp("camera") / "pictures.y4m"
    encoded = write_y4m(path, pictures)
    return path, pictures, encoded


@pytest.fixture(scope="module")
def camera_browser(browser, video):
    """Chromium with its fake camera playing the video.

    The flags are browser-wide, so this is a browser of its own, launched by the
    session's Playwright (a second Playwright cannot run beside it).
    """
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video[0]}",
        f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
    ]
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=args)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def camera_site(tmp_path_factory, shared_cache):
    """Material with instant navigation: the emoji classifier with `camera: true`.

    Room below the widget to scroll it away, and a second page to navigate to.
    """
    project = Project(tmp_path_factory.mktemp("camera-site") / "proj")
    place(project, EMOJI_MODEL, "models/emoji/classifier.keras")
    place(project, CLASSES, "models/emoji/classes.json")
    server = project.instant_site(["index.md", "other.md"], {"cache_dir": str(shared_cache)})
    block = (
        "```tfjs\nmodel: models/emoji/classifier.keras\nwidget: image\nid: cam\n"
        "labels: models/emoji/classes.json\npreprocess: mobilenet\nquantize: none\n"
        "camera: true\n```\n"
    )
    # Room below the widget, to scroll it out of view.
    project.page(
        "index.md",
        "# Camera\n\n[Other page](other.md)\n\n"
        + block
        + '\n<div id="below" style="height: 4000px"></div>\n\nThe end.\n',
    )
    project.page("other.md", "# Other\n\nNo widget here.\n")
    result = project.build()
    assert result.returncode == 0, result.output
    yield server.url
    server.close()


@pytest.fixture
def open_camera_page(camera_browser):
    """Open a page in a fresh context, the camera allowed or not, with the stream probe."""
    with page_opener(camera_browser) as open_page:

        def open_(url: str, allow: bool = True, wait_ready: bool = True, gate: bool = False):
            # gate: getUserMedia waits for the test (CAMERA_GATE).
            return open_page(url, wait_ready=WIDGET if wait_ready else None,
                             init_script=(CAMERA_GATE if gate else "") + STREAM_PROBE,
                             permissions=["camera"] if allow else [])

        yield open_


def camera_state(page) -> str:
    return page.evaluate("id => document.getElementById(id).dataset.camera", WIDGET)


def start_camera(page, frames: int = 1) -> None:
    """Press Use camera; wait until it is on and `frames` frames were classified."""
    before = inferences(page, WIDGET)
    page.locator(f"#{WIDGET} .tfjs-camera").click()
    page.wait_for_function(
        "([id, n]) => document.getElementById(id).dataset.camera === 'on' "
        "&& window.tfjsWidgets.stats(id).inferences >= n",
        arg=[WIDGET, before + frames],
    )


def wait_released(page) -> None:
    """Wait until every camera track the page got has ended and the video holds no stream."""
    page.wait_for_function(RELEASED, arg=WIDGET)


def status(page) -> str:
    return page.locator(f"#{WIDGET} .tfjs-status").text_content()


def nearest(frame: np.ndarray, candidates: list[np.ndarray]) -> tuple[int, float]:
    """Return the index of the candidate closest to ``frame`` (mean absolute difference), and it."""
    distances = [np.abs(frame.astype(float) - c).mean() for c in candidates]
    return int(np.argmin(distances)), float(min(distances))


# -- (a) the frames are classified as the same pictures are ---------------------------------


@pytest.fixture(scope="module")
def keras_emoji():
    """The emoji classifier loaded by Keras itself."""
    import keras

    return keras.models.load_model(EMOJI_MODEL, compile=False)


@pytest.mark.browser
def test_camera_frames_are_classified_as_keras_and_the_file_input_classify_them(
    camera_site, open_camera_page, video, keras_emoji, tmp_path
):
    # Catches: frames read at the wrong size or orientation, skipped or different preprocessing
    # for the camera (no mobilenet scaling, another resize), bars from a stale frame, and a file
    # chosen while the camera runs being overwritten by the next frame.
    _, pictures, encoded = video
    page, log = open_camera_page(camera_site)
    start_camera(page)
    seen: dict[int, dict] = {}
    worst_decode = worst_keras = worst_encoded = 0.0
    while len(seen) < len(pictures):
        before = inferences(page, WIDGET)
        page.wait_for_function(
            "([id, n]) => window.tfjsWidgets.stats(id).inferences > n", arg=[WIDGET, before]
        )
        frame = page.evaluate("id => window.tfjsWidgets.inspect(id)", WIDGET)
        assert frame["camera"] and (frame["width"], frame["height"]) == pictures[0].shape[1::-1]
        rgba = np.asarray(frame["decoded"], dtype=np.uint8).reshape(
            frame["height"], frame["width"], 4
        )
        assert (rgba[..., 3] == 255).all()
        index, distance = nearest(rgba[..., :3], encoded)
        worst_decode = max(worst_decode, np.abs(rgba[..., :3] - encoded[index]).max())
        # The page's own pipeline on the frame it decoded: the Python reference, then Keras.
        expected = preprocess_image(rgba[..., :3].astype(float), 64, 64, "stretch", "mobilenet")
        assert np.abs(np.asarray(frame["input"]).reshape(64, 64, 3) - expected).max() <= 1e-6
        keras_out = keras_emoji.predict(expected[None].astype("float32"), verbose=0)[0]
        worst_keras = max(worst_keras, np.abs(np.asarray(frame["probabilities"]) - keras_out).max())
        # And Keras on the RGB the video file encodes, decoded in Python.
        encoded_input = preprocess_image(encoded[index], 64, 64, "stretch", "mobilenet")
        keras_encoded = keras_emoji.predict(encoded_input[None].astype("float32"), verbose=0)[0]
        worst_encoded = max(
            worst_encoded, np.abs(np.asarray(frame["probabilities"]) - keras_encoded).max()
        )
        seen.setdefault(index, frame)
    # Measured (Chromium 156): the frames Chromium decodes are within 1.62 (of 255) of the RGB
    # the file encodes, decoded here as BT.601 studio range (rounding and chroma upsampling
    # differ); the page's probabilities are within 1.7e-7 of Keras on the frame it decoded
    # (float32 weights), and within 3.2e-3 of Keras on the RGB the file encodes.
    assert worst_decode <= 2, worst_decode
    assert worst_keras <= 1e-6, worst_keras
    assert worst_encoded <= 5e-3, worst_encoded

    names = json.loads(CLASSES.read_text())
    worst_file = 0.0
    for index, path in enumerate(PICTURES):
        before = inferences(page, WIDGET)
        page.locator(f"#{WIDGET} .tfjs-file").set_input_files(str(path))
        wait_idle_after(page, WIDGET, before)
        from_file = page.evaluate("id => window.tfjsWidgets.inspect(id)", WIDGET)
        assert from_file["name"] == path.name and not from_file["camera"]
        camera, file = (
            np.asarray(seen[index]["probabilities"]),
            np.asarray(from_file["probabilities"]),
        )
        assert names[str(int(camera.argmax()))] == names[str(int(file.argmax()))], path.name
        worst_file = max(worst_file, np.abs(camera - file).max())
    # The YUV 4:2:0 round trip (chroma at half resolution, 8-bit studio range) is lossy:
    # measured up to 0.0375 between the camera's and the file's probabilities of the same
    # picture, with the same top class for all four.
    assert worst_file <= 0.045, worst_file
    assert camera_state(page) == "off", "choosing a file stops the camera"
    wait_released(page)
    assert not log.errors, log.errors


# -- (b) the camera is released ---------------------------------------------------------------


@pytest.mark.browser
def test_pressing_the_button_again_releases_the_camera(camera_site, open_camera_page):
    # Catches: a toggle that only hides the video or ends the loop but leaves the tracks
    # live (the camera light stays on), and a loop that keeps classifying after the stop.
    page, log = open_camera_page(camera_site)
    start_camera(page, frames=3)
    button = page.locator(f"#{WIDGET} .tfjs-camera")
    assert button.text_content() == "Stop camera" and button.get_attribute("aria-pressed") == "true"
    button.click()
    wait_released(page)
    assert camera_state(page) == "off" and status(page) == "Camera off."
    assert button.text_content() == "Use camera" and button.get_attribute("aria-pressed") == "false"
    stopped = page.evaluate("id => window.tfjsWidgets.idle(id)", WIDGET)["inferences"]
    # Frames still arrive from the (fake) device to a new stream; none reach this widget.
    page.evaluate("""async () => {
        const s = await navigator.mediaDevices.getUserMedia({video: true});
        const v = document.createElement('video');
        v.muted = true; v.srcObject = s; await v.play();
        for (let i = 0; i < 10; i++) await new Promise(r => v.requestVideoFrameCallback(r));
        s.getTracks().forEach(t => t.stop());
    }""")
    assert inferences(page, WIDGET) == stopped
    # And it starts again.
    start_camera(page)
    assert not log.errors, log.errors


@pytest.mark.browser
def test_instant_navigation_away_releases_the_camera(camera_site, open_camera_page):
    # Catches: a widget disposed by Material's instant navigation (no page unload, so the
    # browser keeps the stream) whose dispose() does not stop the camera. The viewport watch
    # would stop it a moment later too (a removed element is out of view), so the tracks are
    # checked in the same task as the swap: in Material's document$ callback after the runtime's.
    page, log = open_camera_page(camera_site)
    start_camera(page)
    page.evaluate("""() => {
        window.__sameDocument = true;
        window.__releasedAtSwap = [];
        document$.subscribe(() => window.__releasedAtSwap.push(
            window.__streams.every(s => s.getTracks().every(t => t.readyState === 'ended'))));
    }""")
    page.locator(".md-content").get_by_role("link", name="Other page").click()
    page.wait_for_url("**/other/")
    # The first entry is document$ replaying the camera page, camera on.
    page.wait_for_function("window.__releasedAtSwap.length >= 2")
    assert page.evaluate("window.__releasedAtSwap") == [False, True]
    wait_released(page)
    assert page.evaluate("window.__sameDocument") is True, "instant navigation, not a reload"
    assert page.evaluate("window.tfjsWidgets.ids()") == []
    assert not log.errors, log.errors


@pytest.mark.browser
def test_scrolling_the_widget_out_of_view_releases_the_camera(camera_site, open_camera_page):
    # Catches: a camera that keeps running (and classifying) while nobody sees the widget.
    page, log = open_camera_page(camera_site)
    start_camera(page)
    page.locator("text=The end.").scroll_into_view_if_needed()
    wait_released(page)
    assert camera_state(page) == "off"
    assert status(page) == "Camera off: the widget left the screen."
    assert not log.errors, log.errors


# Headless Chromium keeps every page visible: measured, neither a minimised window
# (Browser.setWindowBounds), another tab in the same window (Target.createTarget) nor a
# frozen and resumed page (Page.setWebLifecycleState) changes document.visibilityState.
# So the page is told it is hidden as a browser tells it: the properties, then the event.
HIDE_PAGE = """() => {
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


@pytest.mark.browser
def test_a_hidden_page_releases_the_camera(camera_site, open_camera_page):
    # Catches: a camera left running in a background tab (no visibilitychange listener).
    page, log = open_camera_page(camera_site)
    start_camera(page)
    page.evaluate(HIDE_PAGE)
    wait_released(page)
    assert camera_state(page) == "off" and status(page) == "Camera off: the page was hidden."
    assert not log.errors, log.errors


# -- (b2) the camera is released when stopped while it still starts --------------------------

# getUserMedia held back until the test opens the gate, as a browser holds it while it asks
# the reader: the real call (Chromium's fake device) runs only then. Put before STREAM_PROBE,
# which then records the stream the page gets late.
CAMERA_GATE = """
window.__cameraAsked = 0;
window.__cameraGate = new Promise((resolve) => { window.__openCameraGate = resolve; });
if (window.MediaDevices) {
    const getUserMedia = MediaDevices.prototype.getUserMedia;
    MediaDevices.prototype.getUserMedia = async function (...args) {
        window.__cameraAsked += 1;
        await window.__cameraGate;
        return getUserMedia.apply(this, args);
    };
}
"""

SECOND_PRESS = "id => document.querySelector('#' + id + ' .tfjs-camera').click()"
STARTING = "id => document.getElementById(id).dataset.camera === 'starting' && window.__cameraAsked"
OFF = "id => document.getElementById(id).dataset.camera === 'off'"


def leave_for_the_other_page(page) -> None:
    """Follow the link to the other page: Material's instant navigation disposes the widget."""
    page.evaluate("window.__sameDocument = true")
    page.locator(".md-content").get_by_role("link", name="Other page").click()
    page.wait_for_url("**/other/")
    page.wait_for_function("window.tfjsWidgets.ids().length === 0")
    assert page.evaluate("window.__sameDocument") is True, "instant navigation, not a reload"


# What ends the camera before the browser has answered, and the status it leaves (None: the
# widget is gone).
WHILE_STARTING = {
    "second press": (lambda page: page.evaluate(SECOND_PRESS, WIDGET), "Camera off."),
    "instant navigation": (leave_for_the_other_page, None),
    # Any page script that takes the widget out: the runtime's next scan disposes it.
    "widget removed": (lambda page: page.evaluate(
        "id => { document.getElementById(id).remove(); window.tfjsWidgets.scan(); }", WIDGET), None),
    "page hidden": (lambda page: page.evaluate(HIDE_PAGE), "Camera off: the page was hidden."),
}


@pytest.mark.browser
@pytest.mark.parametrize("stop", list(WHILE_STARTING))
def test_the_camera_stopped_while_it_starts_is_released_as_soon_as_it_comes(
    camera_site, open_camera_page, stop
):
    # Catches: a stream that the browser hands over after the reader pressed Stop, navigated
    # away (the widget disposed) or left the tab, kept running: the camera light stays on,
    # frames are classified, or the widget says "on". The late stream's tracks must end in
    # the same task that receives it, before the video gets it.
    page, log = open_camera_page(camera_site, gate=True)
    before = inferences(page, WIDGET)
    button = page.locator(f"#{WIDGET} .tfjs-camera")
    button.click()
    page.wait_for_function(STARTING, arg=WIDGET)
    assert button.text_content() == "Stop camera" and status(page) == "Asking for the camera…"
    page.evaluate("id => { window.__video = document.querySelector('#' + id + ' video'); }",
                  WIDGET)
    action, message = WHILE_STARTING[stop]
    action(page)
    if message is not None:
        page.wait_for_function(OFF, arg=WIDGET)
        assert status(page) == message and button.text_content() == "Use camera"
    assert page.evaluate("window.__streams.length") == 0, "nothing was asked of the device yet"
    page.evaluate("window.__openCameraGate()")
    # The page's code after getUserMedia runs in the same microtask checkpoint as the probe
    # that records the stream, so once the stream is seen here the page has dealt with it.
    page.wait_for_function("window.__streams.length === 1")
    ended = page.evaluate("window.__streams[0].getTracks().map(t => t.readyState)")
    assert ended and set(ended) == {"ended"}, ended
    assert page.evaluate("window.__video.srcObject") is None
    if message is not None:
        # Nothing reaches the model, the widget still says off, and the button works again.
        assert page.evaluate("id => window.tfjsWidgets.idle(id)", WIDGET)["inferences"] == before
        assert camera_state(page) == "off" and status(page) == message
        if stop == "second press":
            start_camera(page)
            button.click()
            wait_released(page)
    assert not log.errors, log.errors


# -- (c) no leak -------------------------------------------------------------------------------


@pytest.mark.browser
def test_tensors_do_not_grow_over_two_hundred_frames(camera_site, open_camera_page):
    # Catches: a tensor per frame left undisposed (the input or the output outside tf.tidy),
    # which would exhaust memory after minutes of live camera.
    page, log = open_camera_page(camera_site)
    start_camera(page)
    first = page.evaluate("window.tfjsWidgets.memory().numTensors")
    before = inferences(page, WIDGET)
    page.wait_for_function(
        "([id, n]) => window.tfjsWidgets.stats(id).inferences >= n",
        arg=[WIDGET, before + 200],
        timeout=120_000,
    )
    # Measured: 109 tensors (the model's weights) after the first frame and after 200 more.
    assert page.evaluate("window.tfjsWidgets.memory().numTensors") == first
    page.locator(f"#{WIDGET} .tfjs-camera").click()
    wait_released(page)
    assert not log.errors, log.errors


# -- (d) no camera -----------------------------------------------------------------------------


@pytest.mark.browser
def test_a_refused_camera_is_said_and_files_still_work(camera_site, open_camera_page):
    # Catches: a refusal that leaves the widget "starting" forever, throws into the console,
    # or disables the file input. Playwright's contexts refuse the camera unless granted:
    # Chromium 156 rejects getUserMedia with NotAllowedError ("Permission denied").
    page, log = open_camera_page(camera_site, allow=False)
    page.locator(f"#{WIDGET} .tfjs-camera").click()
    page.wait_for_function(
        "id => document.getElementById(id).dataset.camera === 'failed'", arg=WIDGET
    )
    assert status(page) == (
        "The camera was not allowed (the browser's site settings can allow it); "
        "choosing a picture still works."
    )
    assert page.locator(f"#{WIDGET} .tfjs-camera").text_content() == "Use camera"
    before = inferences(page, WIDGET)
    page.locator(f"#{WIDGET} .tfjs-file").set_input_files(str(PICTURES[0]))
    wait_idle_after(page, WIDGET, before)
    assert page.evaluate("id => window.tfjsWidgets.inspect(id).name", WIDGET) == PICTURES[0].name
    assert status(page).startswith(PICTURES[0].name + ": ")
    assert not log.errors, log.errors


@pytest.mark.browser
def test_a_missing_camera_is_said(camera_site, browser):
    # Catches: NotFoundError (no camera at all) reported as a refusal or not at all. The
    # session's browser has no fake device, and a headless Chromium has no camera.
    with page_opener(browser) as open_page:
        page, _ = open_page(camera_site, wait_ready=WIDGET, permissions=["camera"])
        page.locator(f"#{WIDGET} .tfjs-camera").click()
        page.wait_for_function(
            "id => document.getElementById(id).dataset.camera === 'failed'", arg=WIDGET
        )
        assert status(page) == "No camera was found; choosing a picture still works."


@pytest.mark.browser
def test_an_insecure_page_explains_why_the_camera_button_is_disabled(camera_site, open_camera_page):
    # Catches: a button that throws on click (navigator.mediaDevices is undefined on plain
    # http) or that is disabled with no reason given. http://camera.test is not a secure
    # context (only https and localhost are), so Chromium offers it no camera API.
    url = camera_site.replace("127.0.0.1", INSECURE_HOST)
    page, log = open_camera_page(url)
    assert page.evaluate("isSecureContext") is False
    assert camera_state(page) == "unavailable"
    button = page.locator(f"#{WIDGET} .tfjs-camera")
    assert button.is_disabled()
    note = page.locator(f"#{WIDGET} .tfjs-camera-note")
    assert (
        note.is_visible() and note.text_content() == "The camera needs this page served over HTTPS."
    )
    assert button.get_attribute("aria-describedby") == note.get_attribute("id")
    assert page.locator(f"#{WIDGET} .tfjs-file").is_enabled()
    assert not log.errors, log.errors


@pytest.mark.browser
def test_the_demo_page_offers_the_camera_and_classifies_its_picture(demo_url, camera_browser):
    # Catches: the demo block losing `camera: true`, or the served demo (the plugin's own
    # runtime from the package, not node_modules) not wiring the button up.
    with page_opener(camera_browser) as open_page:
        page, _ = open_page(demo_url + "demos/image/", wait_ready="tfjs-image-1",
                            permissions=["camera"])
        page.locator("#tfjs-image-1 .tfjs-camera").click()
        page.wait_for_function(
            "id => document.getElementById(id).dataset.camera === 'on' "
            "&& window.tfjsWidgets.stats(id).inferences > 1",
            arg="tfjs-image-1",
        )
        assert page.locator("#tfjs-image-1 .tfjs-topk-item").count() == 5
