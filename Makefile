# merit: a thin wrapper around the scripts.
#   make            static release binaries into dist/bin (scripts/build)
#   make install DESTDIR=DIR   install into DIR (scripts/install; DESTDIR empty = this system)
#   make test       the test suite (scripts/test)
#   make package    the Debian package dist/merit_VERSION_ARCH.deb (scripts/package deb)
DESTDIR ?=

.PHONY: all build install test package

all build:
	scripts/build

install:
	scripts/install --destdir "$(if $(DESTDIR),$(DESTDIR),/)"

test:
	scripts/test

package:
	scripts/package deb
