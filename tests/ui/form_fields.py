"""Read an HTML form's fields as a browser would post them (inputs, selects, textareas)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Form(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside = form_id, False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.first_option: str | None = None
        self.chose = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or a.get("form", self.form_id) != self.form_id:
            return  # outside the form, or a field of another form (its ``form`` attribute)
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.first_option, self.chose = a.get("name"), None, False
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = a.get("value", "")
            if "selected" in a:
                self.fields.append((self.select, a.get("value", "")))
                self.chose = True
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            if not self.chose and self.first_option is not None:
                self.fields.append((self.select, self.first_option))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, self.text))
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text += data


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """Return the (name, value) pairs the form ``form_id`` posts as the page stands."""
    reader = _Form(form_id)
    reader.feed(html)
    return reader.fields


def replaced(
    fields: list[tuple[str, str]], changes: dict[str, str | None]
) -> list[tuple[str, str]]:
    """Return ``fields`` with each named field set (None: left out, like an unticked box)."""
    kept = [(k, v) for k, v in fields if k not in changes]
    return kept + [(k, v) for k, v in changes.items() if v is not None]


def as_data(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Return ``fields`` as httpx posts a form (a name's values in order)."""
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data
