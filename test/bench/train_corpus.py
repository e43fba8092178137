#!/usr/bin/python3
"""Prepares train_bench.sh's corpus from Debian packages: the GNU Collaborative International
Dictionary of English (dict-gcide), the PostgreSQL manual (postgresql-doc-15), the Python manual's
sources (python3.11-doc), Perl's manual pages (perl-doc) and WordNet's glosses (wordnet-base). Markup is
stripped, text is lower-cased and cut into words of letters, one paragraph a line (at most 1,000
words), so that train_model, fastText and gensim all see exactly the same tokens.
usage: train_corpus.py OUTPUT"""
import glob
import gzip
import html
import re
import sys

TAG = re.compile(r"<[^>]*>")
WORD = re.compile(r"[a-z]+")


def paragraphs_gcide(path):
    # dictzip is gzip-compatible; entries are separated by blank lines, markup is SGML-like tags
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        block = []
        for line in f:
            if line.strip():
                block.append(line)
            elif block:
                yield " ".join(block)
                block = []
        if block:
            yield " ".join(block)


def paragraphs_html(pattern):
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
        for part in re.split(r"(?i)</?(?:p|div|pre|li|h[1-6]|tr|dt|dd|table)\b[^>]*>", text):
            yield html.unescape(TAG.sub(" ", part))


def paragraphs_text(pattern):
    # blank-line-separated blocks of plain text (reStructuredText, POD)
    for path in sorted(glob.glob(pattern, recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as f:
            yield from re.split(r"\n\s*\n", f.read())


def paragraphs_wordnet(pattern):
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.startswith(" ") and "|" in line:
                    yield line.split("|", 1)[1]


def main():
    out_path = sys.argv[1]
    words = lines = 0
    with open(out_path, "w", encoding="ascii") as out:
        sources = [paragraphs_gcide("/usr/share/dictd/gcide.dict.dz"),
                   paragraphs_html("/usr/share/doc/postgresql-doc-15/html/*.html"),
                   paragraphs_text("/usr/share/doc/python3.11/html/_sources/**/*.txt"),
                   paragraphs_text("/usr/share/perl/5.*/pod/*.pod"),
                   paragraphs_wordnet("/usr/share/wordnet/data.*")]
        for source in sources:
            for paragraph in source:
                tokens = WORD.findall(TAG.sub(" ", paragraph).lower())
                for start in range(0, len(tokens), 1000):
                    chunk = tokens[start:start + 1000]
                    if len(chunk) < 2:
                        continue
                    out.write(" ".join(chunk) + "\n")
                    words += len(chunk)
                    lines += 1
    print(f"{words} words in {lines} lines")


if __name__ == "__main__":
    main()
