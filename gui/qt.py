"""The one module that imports Qt (PySide6): every other module of `gui/`
imports Qt names from here, so the binding and its version are audited in one
place. A test checks that nothing else imports PySide6.
"""

from __future__ import annotations

import shiboken6
from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import (
    QAbstractAnimation,
    QEasingCurve,
    QModelIndex,
    QObject,
    QPoint,
    QRectF,
    QRunnable,
    QSize,
    QSocketNotifier,
    QSortFilterProxyModel,
    Qt,
    QThread,
    QThreadPool,
    QTimer,
    QVariantAnimation,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QImage,
    QKeySequence,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QScrollBar,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QSystemTrayIcon,
    QTableWidget,
    QTableWidgetItem,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)


def alive(obj: object) -> bool:
    """False once the C++ side of a Qt object has been deleted (a closed view)."""
    return obj is not None and shiboken6.isValid(obj)


__all__ = [name for name in dir() if name.startswith("Q")] + ["PYSIDE_VERSION", "Signal", "Slot", "Qt", "alive"]
