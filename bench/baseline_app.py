"""The baseline: a bare Textual app with one DataTable the size of the flow tape (12 columns x 10 rows)."""

from textual.app import App, ComposeResult
from textual.widgets import DataTable


class Baseline(App):
    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Date", *[f"F{i}" for i in range(11)], "Total")
        for r in range(10):
            table.add_row(f"{r + 10} Nov 2025", *[f"{(r * 7 + c) % 50:.1f}" for c in range(12)])


if __name__ == "__main__":
    Baseline().run()
