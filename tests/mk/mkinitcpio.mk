# mkinitcpio integration (hooks/): mkinitcpio is not packaged in Debian, so check-mkinitcpio
# runs the runtime hook under busybox ash in a fixture that follows mkinitcpio v41's init and
# init_functions (tests/hooks/test-runtime.sh), and the install hook's build() against a
# recorder of mkinitcpio's add_* functions (tests/hooks/test-install.sh). A real mkinitcpio run
# is not part of it.
.PHONY: check-mkinitcpio
check: check-mkinitcpio
check-mkinitcpio:
	tests/hooks/test-runtime.sh
	tests/hooks/test-install.sh

# Opt-in, not part of check: the runtime hook under mkinitcpio's own init and init_functions
# from a checkout (MKINITCPIO_SRC=, MKINITCPIO_REF= defaults to v41), which also checks the
# fixture above against the real thing. Needs user and mount namespaces.
.PHONY: check-mkinitcpio-real
check-mkinitcpio-real:
	@test -n "$(MKINITCPIO_SRC)" || { echo "check-mkinitcpio-real: set MKINITCPIO_SRC= to a git checkout of mkinitcpio" >&2; exit 1; }
	tests/hooks/test-real-init.sh "$(MKINITCPIO_SRC)" $(or $(MKINITCPIO_REF),v41)
