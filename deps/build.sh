#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the tarballs fetched by deps/fetch.sh into static musl libraries under $BUILD/deps/prefix.
# Every library has a stamp holding a key of its inputs; a library whose key is unchanged is skipped.
set -euo pipefail

# shellcheck source=deps/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HEAVY_LOCK=${NODEGATE_HEAVY_LOCK:-/tmp/nodegate-heavy.lock}
LOG_DIR="$DEPS_BUILD/logs"
job_pid=""

cleanup() {
	# An interrupted make must not leave a compiler running against a half-written prefix.
	if [[ -n "$job_pid" ]] && kill -0 "$job_pid" 2>/dev/null; then
		kill "$job_pid" 2>/dev/null || true
		wait "$job_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# The machine has two cores shared by several engineers and CI; compiles take turns.
# The wait is logged so that build times can be told apart from queueing behind others.
heavy() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	flock "$HEAVY_LOCK" bash -c 'echo "heavy: waited $((EPOCHSECONDS - $1)) s for the lock" >&2
		shift; exec "$@"' heavy "$EPOCHSECONDS" "$@"
}

# What the library depends on inside the prefix: a change there rebuilds it too.
declare -A DEPENDS=(
	[mbedtls]=""
	[json-c]=""
	[util-linux]=""
	[lvm2]=""
	[nettle]=""
	[popt]=""
	[cryptsetup]="json-c util-linux lvm2 nettle popt"
	[tpm2-tss]="mbedtls"
	[curl]="mbedtls"
)
declare -A KEY=()

setup_toolchain() {
	command -v musl-gcc >/dev/null || die "musl-gcc not found: install musl-tools (listed in .ci/packages)"
	export CC=musl-gcc AR=ar RANLIB=ranlib
	# Pieces of the host's glibc must never end up in the gate: only the prefix's .pc files count.
	export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig"
	unset PKG_CONFIG_SYSROOT_DIR
	# musl ships no kernel UAPI headers; musl-gcc's -nostdinc hides the host's, so copies go in.
	CPPFLAGS="-isystem $PREFIX/uapi -I$PREFIX/include"
	# __FILE__ strings (libdevmapper and tpm2-tss logging) must not depend on the build directory.
	# -fPIE: the gate is linked static-pie, so that ASLR moves it too. -fstack-protector-strong:
	# mbedTLS parses the verifier's TLS and X.509 before anything is authenticated.
	CFLAGS="-Os -g0 -ffunction-sections -fdata-sections -ffile-prefix-map=$WORK_DIR=."
	CFLAGS+=" -fPIE -fstack-protector-strong"
	# Nothing in the gate unwinds the stack (C, no backtraces, musl's thread cancellation does
	# not unwind): the tables were 184 KB of the binary, as the gate's own objects already omit.
	CFLAGS+=" -fno-asynchronous-unwind-tables -fno-unwind-tables"
	LDFLAGS="-L$PREFIX/lib"
	export CPPFLAGS CFLAGS LDFLAGS
	# A new compiler, libc or set of kernel headers invalidates every library.
	TOOLCHAIN_KEY=$(
		{
			dpkg-query -W -f '${Package} ${Version}\n' musl-tools musl-dev linux-libc-dev gcc 2>/dev/null || true
			musl-gcc -dumpfullversion
			printf '%s\n' "$CPPFLAGS" "$CFLAGS" "$LDFLAGS"
		} | sha256sum | cut -d' ' -f1
	)
}

# Debian's musl-gcc.specs links dynamic or -static executables only: with -static-pie it would
# put in Scrt1.o and ask for musl's dynamic loader. Our copy starts a static-pie executable
# with rcrt1.o (musl's self-relocating start) and links it without an interpreter, as gcc's
# own spec does for glibc. Rewritten only when it changes.
install_static_pie_specs() {
	local system=/usr/lib/x86_64-linux-musl/musl-gcc.specs out="$PREFIX/musl-static-pie.specs" tmp
	[[ -r "$system" ]] || die "$system not found: install musl-tools (listed in .ci/packages)"
	tmp=$(mktemp "$PREFIX/.specs.XXXXXX")
	sed -e 's|^%{!shared: \(/[^ ]*/\)Scrt1.o}|%{static-pie: \1rcrt1.o; !shared: \1Scrt1.o}|' \
		-e 's|^-dynamic-linker \([^ ]*\) -nostdlib|%{static-pie: -static -pie --no-dynamic-linker -z text; : -dynamic-linker \1} -nostdlib|' \
		"$system" >"$tmp"
	if ! grep -q 'static-pie: -static -pie' "$tmp" || ! grep -q 'static-pie: /.*rcrt1.o' "$tmp"; then
		rm -f "$tmp"
		die "$system has an unexpected layout: cannot derive the static-pie specs"
	fi
	if cmp -s "$tmp" "$out"; then
		rm -f "$tmp"
	else
		mv "$tmp" "$out"
	fi
}

# Copied again only when linux-libc-dev changed: the gate may be compiling against them right now.
install_uapi_headers() {
	local multiarch version
	version=$(dpkg-query -W -f '${Version}' linux-libc-dev 2>/dev/null || echo unknown)
	if [[ -f "$PREFIX/uapi/.version" && "$(cat "$PREFIX/uapi/.version")" == "$version" ]]; then
		return
	fi
	multiarch=$(gcc -print-multiarch)
	rm -rf "$PREFIX/uapi"
	mkdir -p "$PREFIX/uapi"
	cp -a /usr/include/linux /usr/include/asm-generic "$PREFIX/uapi/"
	cp -a "/usr/include/$multiarch/asm" "$PREFIX/uapi/asm"
	printf '%s\n' "$version" >"$PREFIX/uapi/.version"
}

# Applies NAME's Debian patch series (debian/patches/series of its .debian.tar.xz) to the
# source in the current directory, leaving out what debian-patches.skip names.
apply_debian_series() {
	local name=$1 debian_tarball dir line patch opts applied=0 skipped=0 skip
	debian_tarball=$(lock_field "$name" 7)
	[[ "$debian_tarball" == - ]] && return
	dir="$WORK_DIR/$name/debian-tar"
	mkdir -p "$dir"
	tar -xf "$SRC_DIR/$debian_tarball" -C "$dir"
	mapfile -t skip < <(awk -v n="$name" '!/^[[:space:]]*(#|$)/ && $1 == n { print $2 }' "$DEBIAN_SKIP_FILE")
	for patch in "${skip[@]}"; do
		grep -qxF -- "$patch" <(sed -e 's/#.*//' -e 's/[[:space:]].*//' "$dir/debian/patches/series" 2>/dev/null) ||
			die "$name: debian-patches.skip names $patch, which is not in its Debian series"
	done
	[[ -f "$dir/debian/patches/series" ]] || {
		echo "debian: $name $debian_tarball has no patch series"
		return
	}
	while read -r line; do
		line=${line%%#*}
		read -r patch opts <<<"$line"
		[[ -n "$patch" ]] || continue
		if printf '%s\n' "${skip[@]}" | grep -qxF -- "$patch"; then
			echo "debian: $name: left out $patch (deps/debian-patches.skip)"
			skipped=$((skipped + 1))
			continue
		fi
		# shellcheck disable=SC2086 # a series line may carry patch options such as -p0
		patch ${opts:--p1} --forward --batch --quiet <"$dir/debian/patches/$patch" ||
			die "$name: Debian patch $patch does not apply"
		applied=$((applied + 1))
	done <"$dir/debian/patches/series"
	echo "debian: $name: applied $applied patches of the series, left out $skipped"
}

# Unpacks NAME's orig tarball into a fresh $WORK_DIR/NAME/src, applies Debian's patch series
# and ours, and cds into that directory.
unpack() {
	local name=$1 tarball patch
	tarball=$(lock_field "$name" 5)
	rm -rf "${WORK_DIR:?}/$name"
	mkdir -p "$WORK_DIR/$name/src"
	tar -xf "$SRC_DIR/$tarball" -C "$WORK_DIR/$name/src" --strip-components=1
	cd "$WORK_DIR/$name/src"
	apply_debian_series "$name"
	# Our fixes to a pinned source, in order; each must apply exactly.
	for patch in "$PATCH_DIR/$name"/*.patch; do
		[[ -e $patch ]] || continue
		patch -p1 --forward --batch --quiet <"$patch" || die "$name: ${patch##*/} does not apply"
	done
}

cmake_configure() {
	cmake -S . -B ../bld -G "Unix Makefiles" \
		-DCMAKE_C_COMPILER="$CC" \
		-DCMAKE_BUILD_TYPE=None \
		-DCMAKE_C_FLAGS="$CPPFLAGS $CFLAGS" \
		-DCMAKE_INSTALL_PREFIX="$PREFIX" \
		-DCMAKE_INSTALL_LIBDIR=lib \
		-DCMAKE_FIND_ROOT_PATH="$PREFIX" \
		-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY \
		-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY \
		-DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY \
		"$@"
}

build_mbedtls() {
	unpack mbedtls
	# The default configuration stays: tpm2-tss (ESYS crypto) and curl (TLS 1.2/1.3, X.509)
	# between them use most of it, and --gc-sections drops what the gate never calls.
	cmake_configure \
		-DENABLE_PROGRAMS=OFF -DENABLE_TESTING=OFF -DGEN_FILES=OFF \
		-DMBEDTLS_FATAL_WARNINGS=OFF \
		-DUSE_STATIC_MBEDTLS_LIBRARY=ON -DUSE_SHARED_MBEDTLS_LIBRARY=OFF
	heavy cmake --build ../bld -j2
	cmake --install ../bld
}

build_json-c() {
	unpack json-c
	cmake_configure \
		-DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON \
		-DBUILD_TESTING=OFF -DBUILD_APPS=OFF \
		-DDISABLE_WERROR=ON -DDISABLE_EXTRA_LIBS=ON \
		-DENABLE_THREADING=OFF -DENABLE_RDRAND=OFF
	heavy cmake --build ../bld -j2
	cmake --install ../bld
}

build_util-linux() {
	unpack util-linux
	# libuuid and libblkid compile their state and config paths in: those must be the target's
	# (/var/lib/libuuid, /etc/blkid.conf), not the prefix's, which exists only on this host.
	heavy ./configure --prefix="$PREFIX" --libdir="$PREFIX/lib" \
		--sysconfdir=/etc --localstatedir=/var --runstatedir=/run \
		--disable-shared --enable-static \
		--disable-all-programs --enable-libblkid --enable-libuuid \
		--disable-nls --disable-asciidoc --disable-poman --disable-bash-completion \
		--without-udev --without-systemd --without-selinux --without-audit \
		--without-ncursesw --without-ncurses --without-tinfo --without-readline \
		--without-python --without-cap-ng --without-btrfs --without-econf \
		--without-libmagic --without-cryptsetup --without-smack --without-user
	heavy make -j2
	# Staged, because installing with those paths would write into the host's /etc and /var.
	make install DESTDIR="$WORK_DIR/util-linux/stage"
	cp -a "$WORK_DIR/util-linux/stage$PREFIX/." "$PREFIX/"
}

build_lvm2() {
	unpack lvm2
	# Without udev_sync, libdevmapper creates and removes the /dev/mapper nodes itself.
	heavy ./configure --prefix="$PREFIX" --libdir="$PREFIX/lib" --with-usrlibdir="$PREFIX/lib" \
		--enable-static_link --disable-shared --enable-pkgconfig \
		--with-optimisation="" \
		--disable-udev_sync --disable-udev_rules --without-udev \
		--disable-selinux --disable-readline --disable-nls \
		--without-blkid --disable-blkid_wiping --without-libnvme --disable-nvme-wwid \
		--without-systemd --disable-systemd-journal --disable-app-machineid --disable-sd-notify \
		--disable-dmeventd --disable-cmdlib --disable-dmfilemapd \
		--disable-use-lvmlockd --disable-use-lvmpolld --disable-lvmpolld \
		--disable-notify-dbus --disable-dbus-service \
		--disable-fsadm --disable-lvmimportvdo --disable-blkdeactivate
	heavy make -j2 libdm.device-mapper
	make -C libdm install_static install_include install_pkgconfig
}

build_nettle() {
	unpack nettle
	# cryptsetup needs hashes, HMAC and PBKDF2 only: no public-key half (and no GMP), and no fat
	# binary carrying one implementation per CPU feature.
	heavy ./configure --prefix="$PREFIX" --libdir="$PREFIX/lib" \
		--disable-shared --disable-public-key --disable-fat \
		--disable-documentation --disable-openssl --disable-gcov
	heavy make -j2 libnettle.a
	make install-headers install-static install-pkgconfig
	rm -f "$PREFIX/lib/pkgconfig/hogweed.pc"
}

build_popt() {
	unpack popt
	# Not linked into nodegate: cryptsetup's meson build looks popt up unconditionally.
	heavy ./configure --prefix="$PREFIX" --libdir="$PREFIX/lib" \
		--disable-shared --enable-static --disable-nls
	heavy make -j2 -C src
	make -C src install
	make install-pkgconfigDATA
}

build_cryptsetup() {
	unpack cryptsetup
	# meson's find_library (used for popt) ignores LDFLAGS and searches the compiler's own
	# library directories, which LIBRARY_PATH extends.
	export LIBRARY_PATH="$PREFIX/lib"
	heavy meson setup ../bld . \
		--prefix="$PREFIX" --libdir=lib --buildtype=plain \
		--default-library=static --prefer-static -Db_staticpic=false \
		-Dpkg_config_path="$PREFIX/lib/pkgconfig" \
		-Denable-static=true -Dcrypto-backend=nettle \
		-Dcryptsetup=false -Dveritysetup=false -Dintegritysetup=false \
		-Dluks2-reencryption=false -Dexternal-tokens=false -Dssh-token=false \
		-Dudev=false -Dnls=false -Dfips=false -Dhw-opal=false -Dkeyring=false \
		-Dkernel_crypto=false -Dargon-implementation=none -Dblkid=true \
		-Dpwquality=false -Dpasswdqc=false -Dasciidoc=disabled -Dfuzz-targets=false
	heavy ninja -C ../bld -j2
	meson install -C ../bld --no-rebuild
}

build_tpm2-tss() {
	local version
	unpack tpm2-tss
	# The orig tarball is a git snapshot: bootstrap would ask git for the version, which
	# sources.lock already pins, so it is written down and the rest of bootstrap runs as is.
	version=$(lock_field tpm2-tss 3)
	version=${version#*:}
	printf '%s\n' "${version%-*}" >VERSION
	sed '/git describe/d' bootstrap >bootstrap.nogit
	heavy sh ./bootstrap.nogit
	# Upstream's default flags would append -O2, -fPIC and -fstack-protector-all to ours.
	heavy ./configure --prefix="$PREFIX" --libdir="$PREFIX/lib" \
		--disable-shared --enable-static --disable-defaultflags \
		--with-crypto=mbed --enable-nodl \
		--disable-fapi --disable-policy \
		--disable-tcti-mssim --disable-tcti-swtpm --disable-tcti-pcap --disable-tcti-libtpms \
		--disable-tcti-cmd --disable-tcti-spi-helper --disable-tcti-spi-ltt2go \
		--disable-tcti-spidev --disable-tcti-spi-ftdi --disable-tcti-i2c-helper \
		--disable-tcti-i2c-ftdi --disable-tcti-fuzzing \
		--disable-doxygen-doc --disable-log-file --with-maxloglevel=warning \
		--disable-unit --disable-integration
	heavy make -j2
	# Not "make install": its data hooks add a tss user and group to the build host.
	make install-libLTLIBRARIES install-tss2HEADERS install-pkgconfigDATA
}

build_curl() {
	unpack curl
	heavy ./configure --prefix="$PREFIX" --libdir="$PREFIX/lib" \
		--disable-shared --enable-static \
		--with-mbedtls="$PREFIX" --without-openssl --without-gnutls --without-wolfssl \
		--without-rustls --without-bearssl --with-default-ssl-backend=mbedtls \
		--without-ca-bundle --without-ca-path --without-ca-fallback --without-ca-embed \
		--disable-ca-search \
		--without-zlib --without-brotli --without-zstd --without-libidn2 --without-libpsl \
		--without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-quiche --without-msh3 \
		--without-libssh2 --without-libssh --without-wolfssh --without-librtmp \
		--without-libgsasl --without-gssapi --without-libuv \
		--enable-http --disable-ftp --disable-file --disable-ipfs --disable-ldap --disable-ldaps \
		--disable-rtsp --disable-proxy --disable-dict --disable-telnet --disable-tftp \
		--disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher \
		--disable-mqtt --disable-websockets \
		--disable-manual --disable-docs --disable-libcurl-option --disable-verbose \
		--disable-sspi --disable-http-auth --disable-basic-auth --disable-bearer-auth \
		--disable-digest-auth --disable-kerberos-auth --disable-negotiate-auth --disable-aws \
		--disable-ntlm --disable-tls-srp --disable-unix-sockets --disable-cookies \
		--disable-doh --disable-mime --disable-form-api --disable-dateparse --disable-netrc \
		--disable-progress-meter --disable-alt-svc --disable-hsts --disable-httpsrr \
		--disable-ech --disable-ssls-export --disable-bindlocal --disable-get-easy-options \
		--disable-headers-api --disable-sha512-256 --disable-dnsshuffle \
		--disable-ares --enable-threaded-resolver --enable-ipv6 --disable-versioned-symbols
	heavy make -j2 -C lib
	make -C lib install
	make -C include install
	make install-pkgconfigDATA install-binSCRIPTS
}

# The key of NAME: its pinned source, its recipe, the toolchain and the keys of what it links.
compute_key() {
	local name=$1 dep
	{
		lock_rows | awk -v n="$name" '$1 == n'
		declare -f "build_$name"
		cat "$PATCH_DIR/$name"/*.patch 2>/dev/null || true
		awk -v n="$name" '$1 == n' "$DEBIAN_SKIP_FILE"
		declare -f unpack apply_debian_series cmake_configure setup_toolchain
		printf '%s\n' "$TOOLCHAIN_KEY"
		for dep in ${DEPENDS[$name]}; do
			printf '%s %s\n' "$dep" "${KEY[$dep]}"
		done
	} | sha256sum | cut -d' ' -f1
}

build_one() {
	local name=$1 version start log waited
	version=$(lock_field "$name" 3)
	log="$LOG_DIR/$name.log"
	start=$SECONDS
	echo "deps: building $name $version (log: ${log#"$REPO_ROOT"/})"
	(
		"build_$name"
	) >"$log" 2>&1 &
	job_pid=$!
	if ! wait "$job_pid"; then
		job_pid=""
		tail -n 40 "$log" >&2
		die "$name $version: build failed; full log in $log"
	fi
	job_pid=""
	rm -rf "${WORK_DIR:?}/$name"
	printf '%s\n' "${KEY[$name]}" >"$STAMP_DIR/$name"
	waited=$(awk '/^heavy: waited/ { s += $3 } END { print s + 0 }' "$log")
	echo "deps: built $name $version in $((SECONDS - start)) s ($waited s of it waiting for $HEAVY_LOCK)"
}

main() {
	local name version suite tarball sha built=0 total=0 stamp
	take_deps_lock
	setup_toolchain
	mkdir -p "$PREFIX" "$WORK_DIR" "$STAMP_DIR" "$LOG_DIR"
	install_uapi_headers
	install_static_pie_specs

	while read -r name _ version suite tarball sha debian_tarball debian_sha; do
		[[ -v "DEPENDS[$name]" ]] || die "$name: in sources.lock but build.sh has no recipe for it"
		[[ -f "$SRC_DIR/$tarball" ]] || die "$name: $tarball missing; run deps/fetch.sh first"
		# fetch.sh checked the hash; a tarball swapped since then must not be built.
		[[ "$(sha256sum "$SRC_DIR/$tarball" | cut -d' ' -f1)" == "$sha" ]] ||
			die "$name: $tarball does not match its sha256 in sources.lock"
		if [[ "$debian_tarball" != - ]]; then
			[[ -f "$SRC_DIR/$debian_tarball" ]] || die "$name: $debian_tarball missing; run deps/fetch.sh first"
			[[ "$(sha256sum "$SRC_DIR/$debian_tarball" | cut -d' ' -f1)" == "$debian_sha" ]] ||
				die "$name: $debian_tarball does not match its sha256 in sources.lock"
		fi
		KEY[$name]=$(compute_key "$name")
		total=$((total + 1))
		stamp="$STAMP_DIR/$name"
		if [[ -f "$stamp" && "$(cat "$stamp")" == "${KEY[$name]}" ]]; then
			echo "deps: $name $version ($suite): up to date"
			continue
		fi
		build_one "$name"
		built=$((built + 1))
	done < <(lock_rows)

	# Objects of the gate depend on this file: it changes only when a library did.
	if [[ $built -gt 0 || ! -f "$DONE_STAMP" ]]; then
		touch "$DONE_STAMP"
	fi
	if [[ $built -eq 0 ]]; then
		echo "deps: all $total libraries up to date in ${PREFIX#"$REPO_ROOT"/}"
	else
		echo "deps: built $built of $total libraries into ${PREFIX#"$REPO_ROOT"/}"
	fi
}

main "$@"
