"""Point the book at another repository: `python scripts/set-repository.py URL [BRANCH]`.

The repository's address is set in one place, _config.yml (`repository: url`,
`branch`): the book's Colab launch buttons are built from it. A notebook opened
on Colab cannot read that file, so each notebook's setup cell carries the
address too, to install d2lutils from it, and d2lutils.notebooks carries it to
fetch the chapter's stored results there; this script writes the new address
into _config.yml, every notebook and d2lutils/notebooks.py, and
tests/test_book.py fails if they ever disagree. Run it in a fork before
publishing its book.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv):
    if len(argv) not in (1, 2) or not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", argv[0]):
        raise SystemExit("usage: python scripts/set-repository.py "
                         "https://github.com/OWNER/REPOSITORY [BRANCH]")
    new_url, new_branch = argv[0], argv[1] if len(argv) == 2 else None
    config_path = ROOT / "_config.yml"
    config = config_path.read_text()
    old_url = re.search(r"^  url: (\S+)$", config, re.MULTILINE).group(1)
    package = ROOT / "d2lutils" / "notebooks.py"
    package_text = package.read_text()
    if f'REPOSITORY = "{old_url}"\n' not in package_text:  # checked before changing anything
        raise SystemExit(f"{package.relative_to(ROOT)} does not name {old_url} as its "
                         f"REPOSITORY; set it by hand to match _config.yml, then run this again.")
    config = config.replace(f"  url: {old_url}\n", f"  url: {new_url}\n")
    if new_branch:
        config = re.sub(r"^  branch: \S+$", f"  branch: {new_branch}", config, flags=re.MULTILINE)
    config_path.write_text(config)
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = notebook.read_text()
        if old_url in text:
            notebook.write_text(text.replace(old_url, new_url))
            print(f"{notebook.relative_to(ROOT)}: {old_url} -> {new_url}")
    text = package_text.replace(f'REPOSITORY = "{old_url}"', f'REPOSITORY = "{new_url}"')
    if new_branch:
        text = re.sub(r'^BRANCH = "[^"]*"$', f'BRANCH = "{new_branch}"', text, flags=re.MULTILINE)
    package.write_text(text)
    print(f"{package.relative_to(ROOT)}: {old_url} -> {new_url}")
    print(f"_config.yml: {old_url} -> {new_url}" + (f", branch {new_branch}" if new_branch else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
