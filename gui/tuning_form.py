"""Controls bound to some of the hub's run-time settings (`hub.tuning`), with
an Apply button and a line that says what happened.

Each setting gets a spin box with the range of `Tuning.LIMITS`, a label in
plain words and a description (tool tip and screen reader) that ends with the
default and where it comes from. Apply writes the changed ones in one
`hub.tuning.update` on the writer thread; the hub's listeners (the wearable's
bridge among them) follow at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from facelink_local.config import Tuning

from .qt import QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QObject, QPushButton, QSpinBox, Qt, Signal
from .widgets import muted, named, set_role


@dataclass(frozen=True)
class Spec:
    """One setting: `label` has the mnemonic (&), `unit` is (singular, plural) after the number."""

    name: str
    label: str
    description: str
    unit: tuple[str, str] = ("", "")
    decimals: int = 0
    step: float = 1.0
    default_note: str = ""   # e.g. "measured, docs/quality.md"


def _format(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


class TuningForm(QObject):
    """The spin boxes of `specs` (`fields[name]`), `apply_button` and `result`.

    `applied(message, ok)` fires when the hub has answered an Apply.
    """

    applied = Signal(str, bool)

    def __init__(self, ctx, specs: list[Spec], apply_text: str, apply_name: str, parent: QObject | None = None,
                 defaults_text: str | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.specs = {spec.name: spec for spec in specs}
        self.fields: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.labels: dict[str, QLabel] = {}
        defaults = Tuning()
        for spec in specs:
            default = getattr(defaults, spec.name)
            low, high = Tuning.LIMITS[spec.name]
            if isinstance(default, int):
                box: QSpinBox | QDoubleSpinBox = QSpinBox()
                box.setRange(int(low), int(high))
            else:
                box = QDoubleSpinBox()
                box.setDecimals(spec.decimals)
                box.setRange(low, high)
            box.setSingleStep(spec.step)
            default_text = f"{_format(default, spec.decimals)}{self._unit(spec, default)}"
            note = f" ({spec.default_note})" if spec.default_note else ""
            named(box, spec.label.replace("&", "").rstrip(":"), f"{spec.description} Default: {default_text}{note}.")
            box.valueChanged.connect(lambda value, spec=spec, box=box: box.setSuffix(self._unit(spec, value)))
            box.setSuffix(self._unit(spec, default))
            label = QLabel(spec.label)
            label.setBuddy(box)
            label.setToolTip(box.toolTip())
            self.fields[spec.name] = box
            self.labels[spec.name] = label
        self.apply_button = named(QPushButton(apply_text), apply_name)
        self.defaults_button = None
        if defaults_text:
            self.defaults_button = named(QPushButton(defaults_text), defaults_text.replace("&", ""),
                                         "Put back the default of every setting here, and apply them")
            self.defaults_button.clicked.connect(self.restore_defaults)
        self.result = muted()
        self.result.setAccessibleName(f"{apply_name}: result")
        self.result.hide()  # until there is something to say
        self.apply_button.clicked.connect(self.apply)
        self.load()

    @staticmethod
    def _unit(spec: Spec, value: float) -> str:
        singular, plural = spec.unit
        word = singular if round(value, spec.decimals) == 1 else plural
        return f" {word}" if word else ""

    # --- layout -----------------------------------------------------------------------

    def form(self) -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        width = max(box.sizeHint().width() for box in self.fields.values())
        for name, box in self.fields.items():
            box.setMinimumWidth(width)  # one column of equal fields, whatever their units
            form.addRow(self.labels[name], box)
        return form

    def buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(self.apply_button)
        if self.defaults_button is not None:
            row.addWidget(self.defaults_button)
        row.addStretch(1)
        return row

    def widgets(self) -> list:
        """The controls in Tab order."""
        extra = [self.defaults_button] if self.defaults_button is not None else []
        return [*self.fields.values(), self.apply_button, *extra]

    # --- values -----------------------------------------------------------------------

    def load(self) -> None:
        """Show the hub's current values."""
        current = self.ctx.hub.tuning.current
        for name, box in self.fields.items():
            box.setValue(getattr(current, name))

    def changes(self) -> dict:
        current = self.ctx.hub.tuning.current
        changes = {}
        for name, box in self.fields.items():
            spec = self.specs[name]
            value = box.value()
            if isinstance(box, QDoubleSpinBox):
                value = round(float(value), spec.decimals)
                if value == round(float(getattr(current, name)), spec.decimals):
                    continue
            elif value == getattr(current, name):
                continue
            changes[name] = value
        return changes

    def restore_defaults(self) -> None:
        defaults = Tuning()
        for name, box in self.fields.items():
            box.setValue(getattr(defaults, name))
        self.apply()

    def apply(self) -> None:
        changes = self.changes()
        if not changes:
            self._answered("Nothing to change.", True)
            return
        self.apply_button.setEnabled(False)
        if self.defaults_button is not None:
            self.defaults_button.setEnabled(False)
        self.ctx.tasks.run(self.ctx.hub.tuning.update, write=True, context=self.apply_button,
                           done=lambda _tuning: self._answered("Saved; in effect now.", True),
                           failed=lambda exc: self._answered(f"Not saved: {getattr(exc, 'message', exc)}", False),
                           **changes)

    def _answered(self, text: str, ok: bool) -> None:
        self.apply_button.setEnabled(True)
        if self.defaults_button is not None:
            self.defaults_button.setEnabled(True)
        self.result.setText(text)
        set_role(self.result, "ok" if ok else "bad")
        self.result.show()
        self.load()
        self.applied.emit(text, ok)
