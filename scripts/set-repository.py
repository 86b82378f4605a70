"""Point the book at another repository: `python scripts/set-repository.py URL [BRANCH]`.

The repository's address is set in one place, _config.yml (`repository: url`,
`branch`): the book's Colab launch buttons are built from it. A notebook opened
on Colab cannot read that file, so each notebook's setup cell carries the
address and branch too, to install d2lutils from them, and d2lutils.notebooks carries them to
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
    if argv[0].endswith(".git"):  # the clone address: the book's links need the page's
        raise SystemExit(f"{argv[0]} is a clone address; give the repository's page, "
                         f"{argv[0].removesuffix('.git')}")
    new_url, new_branch = argv[0], argv[1] if len(argv) == 2 else None
    config_path = ROOT / "_config.yml"
    config = config_path.read_text()
    found = [re.search(rf"^  {key}: (\S+)$", config, re.MULTILINE) for key in ("url", "branch")]
    if not all(found):
        raise SystemExit("_config.yml has no `repository:` section with `url:` and `branch:` "
                         "lines; restore them (see the repository's own _config.yml).")
    old_url, old_branch = (match.group(1) for match in found)
    new_branch = new_branch or old_branch
    package = ROOT / "d2lutils" / "notebooks.py"
    package_text = package.read_text()
    if f'REPOSITORY = "{old_url}"\n' not in package_text:  # checked before changing anything
        raise SystemExit(f"{package.relative_to(ROOT)} does not name {old_url} as its "
                         f"REPOSITORY; set it by hand to match _config.yml, then run this again.")
    config = config.replace(f"  url: {old_url}\n", f"  url: {new_url}\n")
    config = re.sub(r"^  branch: \S+$", f"  branch: {new_branch}", config, flags=re.MULTILINE)
    config_path.write_text(config)
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = notebook.read_text()
        if old_url in text:
            # The install and clone lines name the branch, so Colab gets the d2lutils
            # and files of the branch the launch button opened the notebook from.
            text = text.replace(f"git+{old_url}@{old_branch}", f"git+{new_url}@{new_branch}")
            text = text.replace(f"--branch {old_branch} {old_url}",
                                f"--branch {new_branch} {new_url}")
            notebook.write_text(text.replace(old_url, new_url))
            print(f"{notebook.relative_to(ROOT)}: {old_url} -> {new_url}")
    text = package_text.replace(f'REPOSITORY = "{old_url}"', f'REPOSITORY = "{new_url}"')
    text = re.sub(r'^BRANCH = "[^"]*"$', f'BRANCH = "{new_branch}"', text, flags=re.MULTILINE)
    package.write_text(text)
    print(f"{package.relative_to(ROOT)}: {old_url} -> {new_url}")
    print(f"_config.yml: {old_url} -> {new_url}, branch {new_branch}")


if __name__ == "__main__":
    main(sys.argv[1:])
