"""The misclassified gallery: the validation images the network gets wrong, the most confident
mistakes first, each captioned with its true and predicted class and the network's output for
the class it predicted ("true 7 · predicted 1 (0.93)"). Computed in the trainer's process by
:class:`core.misclassified.MisclassifiedProbe`; drawn by :class:`app.image_grid.ImageGrid`."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from core.misclassified import GALLERY_LIMIT, MisclassifiedData

from ..image_grid import ImageGrid
from .common import ViewPanel

NBSP = "\u00a0"  # joins the words of a caption's part, so a caption breaks only at its "·"
ALL_RIGHT = "The network classifies every validation image right."


def caption(true_name: str, predicted_name: str, confidence: float) -> str:
    """``true 7 · predicted 1 (0.93)``, breakable only after the "·"."""
    return f"true{NBSP}{true_name} · predicted{NBSP}{predicted_name}{NBSP}({confidence:.2f})"


class MisclassifiedView(ViewPanel):
    """The gallery (see the module docstring), with a count of the wrong validation images. It
    draws as many of the mistakes as it can draw readably (up to the probe's 48); the count
    says how many that is."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("misclassified", parent)
        self.stack.removeWidget(self.canvas)  # the gallery is the canvas (Export takes it)
        self.canvas.deleteLater()
        self.canvas = ImageGrid("misclassifiedCanvas", drop_to_fit=True)
        self.canvas.item.shownChanged.connect(self._show_count)
        self.canvas.setToolTip("The validation images the network classifies wrong, the most confident mistakes first: "
                               "the true class, the class predicted and the network's output for it")
        self.canvas.setAccessibleName("Gallery of misclassified validation images with their true and predicted classes")
        self.stack.insertWidget(0, self.canvas)
        self.readout.setToolTip(f"The most confident mistakes come first. The gallery shows up to {GALLERY_LIMIT} of them, "
                                "as many as it can draw readably: enlarge the view to see more")
        self.finish_header()
        self.data: MisclassifiedData | None = None
        self.clear()

    def clear(self) -> None:
        """Forget the gallery and the count."""
        self.data = None
        self.canvas.clear()
        self.readout.setText("")
        self.show_note("Press Play or step an epoch to see the validation images the network gets wrong.")

    def show_data(self, data: MisclassifiedData) -> None:
        if data.reason:
            self.show_reason(data.reason)
            return
        if data.wrong == 0:
            self.show_reason(ALL_RIGHT)
        else:
            self.show_canvas()
            captions = [caption(t, p, float(c)) for t, p, c in zip(data.true_names, data.predicted_names, data.confidence, strict=True)]
            tips = [f"sample {row:,}: {text.replace(NBSP, ' ')}" for row, text in zip(data.rows.tolist(), captions, strict=True)]
            self.canvas.set_images(data.images, captions, tooltips=tips)
        self.data = data
        self._show_count()

    def _show_count(self) -> None:
        """The readout: how many validation images are wrong, and how many of them are drawn."""
        data = self.data
        if data is None or data.reason:
            return
        shown = self.canvas.item.shown() if data.wrong else 0
        which = f" · {shown} shown" if shown < data.wrong else ""
        self.readout.setText(f"{data.wrong:,} of {data.total:,} validation images wrong ({100 * data.wrong / max(data.total, 1):.1f} %){which}")
