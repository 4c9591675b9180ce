"""Build a clean .ipynb (tslab kernel, no outputs) from a cell script, so notebooks stay reviewable as text.

usage: notebook_from_cells.py SOURCE.cells.ts OUT.ipynb

SOURCE is TypeScript/Markdown separated by marker lines:
  // %% markdown            a markdown cell (lines may start with "// " which is stripped)
  // %% code [tag ...]      a code cell, optionally tagged (e.g. "parameters")
"""

import re
import sys

import nbformat


def main() -> int:
    src, out = sys.argv[1], sys.argv[2]
    cells = []
    kind, tags, lines = None, [], []

    def flush():
        if kind is None:
            return
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(re.sub(r"^// ?", "", l) for l in text.split("\n"))
            cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            cell = nbformat.v4.new_code_cell(text)
            if tags:
                cell.metadata["tags"] = tags
            cells.append(cell)

    for line in open(src, encoding="utf-8").read().split("\n"):
        m = re.match(r"^// %% (markdown|code)(.*)$", line)
        if m:
            flush()
            kind, tags, lines = m.group(1), m.group(2).split(), []
        elif kind is not None:
            lines.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"name": "tslab", "display_name": "TypeScript", "language": "typescript"},
        "language_info": {"name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript"},
    }
    for i, c in enumerate(nb.cells):
        c.id = f"cell-{i:02d}"
    nbformat.validate(nb)
    nbformat.write(nb, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
