# libzmq.so.5 in Rust.  `make` builds the library, header and pkg-config file
# into build/ and include/; `make test` runs every test; see README.md.

PREFIX   ?= /usr/local
DESTDIR  ?=
CARGO    ?= cargo
VERSION  := 4.3.5
BUILD    := build
LIBDIR   := $(BUILD)/lib
RELEASE  := target/release
TOP      := $(abspath .)

.PHONY: all lib pc header install test test-deps test-rust test-header \
        test-abi test-c test-install bench clean

all: lib pc

lib:
	$(CARGO) build --release -p zmq-capi
	mkdir -p $(LIBDIR)
	cp -f $(RELEASE)/libzmq.so $(LIBDIR)/libzmq.so.5.tmp
	mv -f $(LIBDIR)/libzmq.so.5.tmp $(LIBDIR)/libzmq.so.5
	ln -sf libzmq.so.5 $(LIBDIR)/libzmq.so
	cp -f $(RELEASE)/libzmq.a $(LIBDIR)/libzmq.a

# The pkg-config file for using the library in place, from this tree.
pc:
	mkdir -p $(LIBDIR)/pkgconfig
	sed -e 's|@PREFIX@|$(TOP)/$(BUILD)|' -e 's|@LIBDIR@|$(TOP)/$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(TOP)/include|' -e 's|@VERSION@|$(VERSION)|' \
	    pkgconfig/libzmq.pc.in > $(LIBDIR)/pkgconfig/libzmq.pc

# Regenerates include/zmq.h from the Rust declarations (pinned cbindgen).
header:
	$(CARGO) run -q -p gen-header

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(LIBDIR)/libzmq.so.5 $(DESTDIR)$(PREFIX)/lib/libzmq.so.5
	ln -sf libzmq.so.5 $(DESTDIR)$(PREFIX)/lib/libzmq.so
	install -m 644 $(LIBDIR)/libzmq.a $(DESTDIR)$(PREFIX)/lib/libzmq.a
	install -m 644 include/zmq.h include/zmq_utils.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$${prefix}/lib|' \
	    -e 's|@INCLUDEDIR@|$${prefix}/include|' -e 's|@VERSION@|$(VERSION)|' \
	    pkgconfig/libzmq.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libzmq.pc

# Everything: unit tests, header freshness, ABI, C conformance, install.
test: test-deps all test-rust test-header test-abi test-c test-install
	@echo "make test: all passed"

# What the tests need from Debian: libzmq3-dev (the oracle), pkg-config.
test-deps:
	@./tools/test-deps.sh

test-rust:
	$(CARGO) test --workspace --exclude gen-header -q

test-header:
	$(CARGO) run -q -p gen-header -- --check

test-abi: all
	./tools/abi-check.sh

test-c: all
	./tests-c/run.sh

test-install: all
	./tools/install-check.sh

# Benchmarks side by side with Debian's libzmq (bench/README.md): every cell,
# alternating runs, ratios; writes bench/results.md. Not part of `make test`.
bench: test-deps all
	bench/run.sh

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
