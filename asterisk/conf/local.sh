#!/usr/bin/env bash
# asterisk/conf/local.sh DIR: an Asterisk of your own on this machine, on
# loopback only, running the sample configuration of this folder, so that
# you can phone the support lines with a softphone (README: "Asterisk").
#
# It writes everything into DIR (nothing under /etc or /var): the samples
# with fresh passwords, SIP on 127.0.0.1:${SIP_PORT:-5060}, ARI on
# 127.0.0.1:${ARI_PORT:-8088}, the carrier pointed at a loopback port where
# nothing listens (no traffic leaves the machine), the prompts installed by
# `ivr asterisk sounds`, a baresip profile for the softphone, and
# DIR/local.env with ARI's URL and credentials in the ARI_* variables the
# ARI driver reads. Then it prints how to start Asterisk and the softphone.
#
# Asterisk: IVR_ASTERISK_PREFIX, else the project's cached build
# (.ci/build-asterisk; about 12 minutes the first time). The ivr binary:
# IVR_BIN, else `ivr` on the PATH (go build -o bin/ivr ./cmd/ivr).
# BARESIP_AUDIO=aubridge makes the softphone profile work without a sound
# card (it then hears and says nothing, but the call goes through).
set -euo pipefail

dir=${1:?usage: asterisk/conf/local.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=${IVR_ASTERISK_PREFIX:-$("$root/.ci/build-asterisk" | tail -n 1)}
ivr=${IVR_BIN:-ivr}
sip_port=${SIP_PORT:-5060}
ari_port=${ARI_PORT:-8088}
rtp_start=${RTP_START:-10000}
audio=${BARESIP_AUDIO:-alsa}

modules=
for m in "$prefix"/lib*/asterisk/modules "$prefix"/lib/*/asterisk/modules; do
	if [ -z "$modules" ] && [ -e "$m/app_stasis.so" ]; then
		modules=$m
	fi
done
if [ ! -x "$prefix/sbin/asterisk" ] || [ -z "$modules" ]; then
	echo "local.sh: no Asterisk with app_stasis under $prefix (set IVR_ASTERISK_PREFIX, or run .ci/build-asterisk)" >&2
	exit 1
fi
if [ -e "$dir/etc" ]; then
	echo "local.sh: $dir/etc exists: pick a new folder (or delete it)" >&2
	exit 1
fi
mkdir -p "$dir"/{etc,run,log,spool,lib,data,cache,baresip}
dir=$(cd "$dir" && pwd)
secret() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
ari_password=$(secret)
softphone_password=$(secret)
unused_port=$((sip_port + 1))

# Asterisk's own data (its REST API descriptions, its sounds if installed).
data=$prefix/var/lib/asterisk
if [ ! -d "$data" ]; then
	data=$prefix/share/asterisk
fi
for f in "$data"/*; do
	if [ -e "$f" ]; then
		ln -s "$f" "$dir/data/"
	fi
done
"$ivr" asterisk sounds --dir "$dir/ivr-sounds" >/dev/null

# The samples, with every placeholder the local trial needs replaced.
sed -e "s|^bindport = 8088|bindport = $ari_port|" "$here/http.conf" >"$dir/etc/http.conf"
sed -e "s|CHANGE-ME-ari-password|$ari_password|" "$here/ari.conf" >"$dir/etc/ari.conf"
sed -e "s|^bind = 0.0.0.0:5060|bind = 127.0.0.1:$sip_port|" \
	-e "s|sip.carrier.example|127.0.0.1:$unused_port|g" \
	-e "s|CHANGE-ME-softphone-password|$softphone_password|" \
	"$here/pjsip.conf" >"$dir/etc/pjsip.conf"
sed -e "s|^rtpstart = 10000|rtpstart = $rtp_start|" -e "s|^rtpend = 20000|rtpend = $((rtp_start + 200))|" \
	"$here/rtp.conf" >"$dir/etc/rtp.conf"
sed -e "s|/var/lib/asterisk/sounds/ivr|$dir/ivr-sounds|" "$here/extensions.conf" >"$dir/etc/extensions.conf"
sed -e "s|/var/lib/asterisk/sounds/ivr|$dir/ivr-sounds|" "$here/musiconhold.conf" >"$dir/etc/musiconhold.conf"
cp "$here/modules.conf" "$here/voicemail.conf" "$dir/etc/"

cat >"$dir/etc/asterisk.conf" <<EOF
[directories]
astetcdir => $dir/etc
astmoddir => $modules
astvarlibdir => $dir/lib
astdbdir => $dir/lib
astkeydir => $dir/lib
astdatadir => $dir/data
astagidir => $dir/lib
astspooldir => $dir/spool
astrundir => $dir/run
astlogdir => $dir/log
astcachedir => $dir/cache
astsbindir => $prefix/sbin

[options]
verbose = 3
nocolor = yes
EOF
cat >"$dir/etc/logger.conf" <<EOF
[general]
[logfiles]
console => notice,warning,error,verbose(3)
messages.log => notice,warning,error,verbose(3)
EOF

# The softphone: baresip's profile (baresip -f DIR/baresip).
cat >"$dir/baresip/accounts" <<EOF
<sip:softphone@127.0.0.1:$sip_port>;auth_pass=$softphone_password;regint=300
EOF
cat >"$dir/baresip/config" <<EOF
sip_listen	127.0.0.1:$((sip_port + 10))
audio_player	$audio,default
audio_source	$audio,default
audio_alert	$audio,default
module_path	/usr/lib/baresip/modules
module	stdio.so
module	g711.so
module	$audio.so
module_app	account.so
module_app	menu.so
EOF

cat >"$dir/local.env" <<EOF
ARI_URL=http://127.0.0.1:$ari_port/ari
ARI_WSURL=ws://127.0.0.1:$ari_port/ari/events
ARI_USERNAME=ivr
ARI_PASSWORD=$ari_password
ARI_APPLICATION=ivr
SOFTPHONE_PASSWORD=$softphone_password
SIP_PORT=$sip_port
ASTERISK=$prefix/sbin/asterisk
ASTERISK_CONF=$dir/etc/asterisk.conf
EOF
chmod 600 "$dir/local.env" "$dir/etc/ari.conf" "$dir/etc/pjsip.conf" "$dir/baresip/accounts"

cat <<EOF
Written into $dir. Asterisk, in a terminal of its own (Ctrl-C stops it):
  $prefix/sbin/asterisk -f -C $dir/etc/asterisk.conf
its console, in another:
  $prefix/sbin/asterisk -C $dir/etc/asterisk.conf -r
ARI for ivr serve: $dir/local.env (set -a; . $dir/local.env; set +a)
The softphone: baresip -f $dir/baresip, then type: /dial +12025952118
  (any other: register as softphone at 127.0.0.1:$sip_port, password in $dir/local.env)
EOF
