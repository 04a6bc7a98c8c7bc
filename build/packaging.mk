# Packaging targets (issue 7), included at the end of Makefile.am.
#
#   make deb               the Debian package, from the `make dist` tarball,
#                          checked by lintian       -> packages/deb/
#   make rpm-srpm          the source RPM, from the same tarball
#                                                   -> packages/rpm/SRPMS/
#   make check-packaging   the packaging tests (tests/packaging): examples
#                          through apache2 -t and a private httpd, the RPM
#                          spec, and - as root - the .deb installed on this
#                          machine, a2enmod, the system apache on a
#                          loopback port, purge. See build/check-packaging.sh.
#
# Packaging files: build/debian/ (copied in as debian/ by build/mkdeb.sh),
# build/rpm/mod_conduktor_auth.spec, conf/.

PKG_OUTDIR = $(abs_builddir)/packages
PKG_TARBALL = $(abs_builddir)/$(distdir).tar.gz
RPMBUILD = rpmbuild

# The packaging files and their tests travel in the tarball too.
EXTRA_DIST += build/packaging.mk build/mkdeb.sh build/check-packaging.sh \
	build/debian build/rpm tests/packaging

deb: dist
	rm -rf $(PKG_OUTDIR)/deb
	$(SHELL) $(srcdir)/build/mkdeb.sh $(PKG_TARBALL) $(PKG_OUTDIR)/deb

rpm-srpm: dist
	rm -rf $(PKG_OUTDIR)/rpm
	$(MKDIR_P) $(PKG_OUTDIR)/rpm/SOURCES
	cp $(PKG_TARBALL) $(PKG_OUTDIR)/rpm/SOURCES/
	$(RPMBUILD) -bs --nodeps --define "_topdir $(PKG_OUTDIR)/rpm" \
		$(srcdir)/build/rpm/mod_conduktor_auth.spec
	ls -1 $(PKG_OUTDIR)/rpm/SRPMS/*.src.rpm

check-packaging: all dist
	CKA_DIST_TARBALL=$(PKG_TARBALL) \
	CKA_MODULE=$(abs_builddir)/.libs/mod_conduktor_auth.so \
	$(SHELL) $(srcdir)/build/check-packaging.sh

clean-packaging:
	rm -rf $(PKG_OUTDIR)

# EXTRA_DIST names whole directories (build, conf, tests/...): leave out
# what a working tree accumulates there - Python caches, installed npm
# packages, fuzzer output, configure/build output and compiled programs.
dist-hook:
	rm -rf $(distdir)/build/fuzz-out $(distdir)/tests/browser/node_modules
	rm -f $(distdir)/build/*.out $(distdir)/build/cka_build.h \
	      $(distdir)/build/stamp-h1 $(distdir)/build/*~
	find $(distdir) -depth \( -name __pycache__ -o -name .pytest_cache \
	      -o -name .deps -o -name .libs -o -name .dirstamp \) \
	      -exec rm -rf {} +
	find $(distdir) -type f \( -name '*.o' -o -name '*.lo' -o -name '*.la' \
	      -o -name '*.pyc' -o -name '*.log' -o -name '*.trs' \) -exec rm -f {} +
	find $(distdir) -type f -perm -u+x | while read f; do \
	  if head -c 4 "$$f" | grep -q 'ELF'; then rm -f "$$f"; fi; \
	done

.PHONY: deb rpm-srpm check-packaging clean-packaging
