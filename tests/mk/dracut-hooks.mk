# dracut integration (dracut-module/90nodegate/) below the QEMU boots of TEST-20 and TEST-21:
# the runtime scripts in a chroot that plays dracut, under dash, bash and busybox ash, in user
# and PID namespaces, with stand-ins for the gate and for everything that would stop this
# machine (tests/dracut/test-runtime.sh); module-setup.sh against recorders of dracut's install
# functions (tests/dracut/test-module-setup.sh); the units' properties as systemd parses them,
# and systemd-analyze verify in a root of their own (tests/dracut/test-units.py). Needs
# busybox-static, dash and unshare; about ten seconds of CPU, nothing built.
.PHONY: check-dracut-hooks
check: check-dracut-hooks
check-dracut-hooks:
	tests/dracut/test-runtime.sh
	tests/dracut/test-module-setup.sh
	tests/dracut/test-units.py
