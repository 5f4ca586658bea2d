# merit: a thin wrapper around the scripts.
#   make            static release binaries into dist/bin (scripts/build)
#   make install DESTDIR=DIR   install into DIR (scripts/install; DESTDIR empty = this system)
#   make test       the test suite (scripts/test)
DESTDIR ?=

.PHONY: all build install test

all build:
	scripts/build

install:
	scripts/install --destdir "$(if $(DESTDIR),$(DESTDIR),/)"

test:
	scripts/test
