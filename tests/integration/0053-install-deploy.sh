#!/bin/sh
# make install and make uninstall with PREFIX, SYSCONFDIR and DESTDIR: the
# installed config's rules.paths, the unit and the binary's default config
# follow SYSCONFDIR; the compose file installed with the docs has no path
# outside its directory; uninstall removes exactly what install put in
# place (no file left in DESTDIR; the shared directories such as bin/ and
# man1/ stay), and keeps a config an operator edited.
SCRIPT=0053-install-deploy
. tests/integration/helpers.sh

# The binary for SYSCONFDIR=/opt/tw/etc: the objects of the build under
# test, copied, so that make rebuilds only config.o and what links it.
B="$T/build"
mkdir -p "$B"
cp -a "$BUILD/daemon" "$BUILD/libtidewatch.a" "$BUILD/tidewatch" "$BUILD/man" "$B/"
[ -e "$BUILD/sysconfdir.stamp" ] && cp -a "$BUILD/sysconfdir.stamp" "$B/"
case $BUILD in *san*) SAN=address,undefined ;; *) SAN= ;; esac
MK="env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s BUILD=$B SANITIZE=$SAN PREFIX=/opt/tw SYSCONFDIR=/opt/tw/etc"
R="$T/root"
$MK install DESTDIR="$R" >"$T/install.log" 2>&1
check "make install PREFIX=/opt/tw SYSCONFDIR=/opt/tw/etc DESTDIR" test $? -eq 0 || cat "$T/install.log"
TW="$R/opt/tw/bin/tidewatch"
CFG="$R/opt/tw/etc/tidewatch/tidewatch.yaml"
UNIT="$R/opt/tw/lib/systemd/system/tidewatch.service"
check "installed config: rules.paths under SYSCONFDIR" \
    grep -qx '  paths: \[/opt/tw/etc/tidewatch/rules.d\]' "$CFG"
check "installed config: no /etc/tidewatch left" sh -c "! grep -q '/etc/tidewatch' '$CFG' || ! grep '/etc/tidewatch' '$CFG' | grep -qv /opt/tw/etc/tidewatch"
check "installed unit: binary and config of this install" sh -c "
    grep -qx 'ExecStart=/opt/tw/bin/tidewatch run -c /opt/tw/etc/tidewatch/tidewatch.yaml' '$UNIT' &&
    grep -qx 'ExecReload=/opt/tw/bin/tidewatch reload -c /opt/tw/etc/tidewatch/tidewatch.yaml' '$UNIT'"
"$TW" config >"$T/out" 2>&1
check "installed binary: default config is SYSCONFDIR's" grep -q '^/opt/tw/etc/tidewatch/tidewatch.yaml: ' "$T/out" || cat "$T/out"
"$TW" config --defaults >"$T/defaults.yaml"
check "installed binary: default rules.paths is SYSCONFDIR's" \
    grep -qx '  paths: \[/opt/tw/etc/tidewatch/rules.d\]' "$T/defaults.yaml"
check "installed man page: the config keys with SYSCONFDIR's paths" \
    grep -q '/opt/tw/etc/tidewatch/rules.d' "$R/opt/tw/share/man/man5/tidewatch.yaml.5"

D="$R/opt/tw/share/doc/tidewatch"
check "installed compose file: no build section, no path outside its directory" sh -c "
    ! grep -q '^ *build:' '$D/compose.yaml' && ! grep -q '\.\./\|: \.\.\$' '$D/compose.yaml'"
missing=""
for f in $(sed -n 's|.*[ "]\./\([A-Za-z0-9._-]*\).*|\1|p' "$D/compose.yaml" | sort -u); do
	case $f in redis-password|my-rules) continue ;; esac	# the user makes these
	[ -e "$D/$f" ] || missing="$missing $f"
done
check "installed compose file: every file it names is installed next to it ($missing)" test -z "$missing"
check "installed compose file: says how to make the secret it uses" \
    grep -q 'openssl rand -hex 24 >redis-password' "$D/compose.yaml"

# uninstall: exactly what install put there
$MK uninstall DESTDIR="$R" >"$T/uninstall.log" 2>&1
check "make uninstall" test $? -eq 0 || cat "$T/uninstall.log"
left=$(cd "$R" && find . -type f | sort | tr '\n' ' ')
check "uninstall leaves no file ($left)" test -z "$left"
$MK install DESTDIR="$R" >>"$T/install.log" 2>&1
echo "# an operator's edit" >>"$CFG"
$MK uninstall DESTDIR="$R" >>"$T/uninstall.log" 2>&1
check "uninstall keeps a config an operator edited, and only it" sh -c "
    [ \"\$(cd '$R' && find . -type f)\" = './opt/tw/etc/tidewatch/tidewatch.yaml' ]"
rm -f "$CFG"
$MK install DESTDIR="$R" >>"$T/install.log" 2>&1
$MK uninstall DESTDIR="$R" >>"$T/uninstall.log" 2>&1
check "install, uninstall: no file left in DESTDIR, no directory of tidewatch's own" sh -c "
    [ -z \"\$(find '$R' -type f)\" ] && [ -z \"\$(find '$R' -name '*tidewatch*')\" ]" ||
    find "$R"

# --- the container files (docker does not run here: what can be read)
# the image's config: the installed example with metrics on 0.0.0.0, by
# the Dockerfile's own sed, which must match (its grep fails the build)
sedexpr=$(sed -n "s/^RUN sed -i '\(.*\)' \/etc\/tidewatch\/tidewatch.yaml.*/\1/p" deploy/Dockerfile)
sed "$sedexpr" deploy/tidewatch.yaml >"$T/image.yaml"
check "Dockerfile: its config has metrics.listen 0.0.0.0:9464" sh -c "
    [ -n \"\$1\" ] && grep -qx '  listen: \"0.0.0.0:9464\"' '$T/image.yaml' &&
    grep -q \"grep -qx '  listen: \\\"0.0.0.0:9464\\\"' /etc/tidewatch/tidewatch.yaml\" deploy/Dockerfile" sh "$sedexpr"
check "Dockerfile: the image's config differs from the example only there" sh -c "
    [ \$(diff deploy/tidewatch.yaml '$T/image.yaml' | grep -c '^[<>]') -eq 2 ]"
"$TIDEWATCH" config -c "$T/image.yaml" >"$T/out" 2>&1
check "Dockerfile: the image's config is valid" grep -q ': ok$' "$T/out"
check "Dockerfile: HEALTHCHECK runs tidewatch health on the image's config" grep -qx \
    '    CMD \["/usr/bin/tidewatch", "health", "-c", "/etc/tidewatch/tidewatch.yaml"\]' deploy/Dockerfile
check "Dockerfile: the CMD needs no -s for the metrics (docker run … -s replaces it)" sh -c "
    grep -qx 'CMD \[\"run\", \"-c\", \"/etc/tidewatch/tidewatch.yaml\"\]' deploy/Dockerfile &&
    ! grep -q '^CMD.*metrics.listen' deploy/Dockerfile"
check "compose: Redis requires the password of the secret" sh -c "
    grep -q 'redis-server .*--requirepass .*cat /run/secrets/redis-password' deploy/compose.yaml &&
    grep -q 'REDISCLI_AUTH=.*redis-cli ping' deploy/compose.yaml &&
    ! grep -q 'protected-mode' deploy/compose.yaml"
check "compose: tidewatch reads the password from the secret" sh -c "
    grep -q '\"-s\", \"redis.password_file=/run/secrets/redis-password\"' deploy/compose.yaml &&
    [ \$(grep -c '^    secrets: \[redis-password\]\$' deploy/compose.yaml) -eq 2 ] &&
    grep -q '^    file: ./redis-password\$' deploy/compose.yaml"
