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
