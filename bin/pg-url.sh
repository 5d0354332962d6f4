# Sourced by bin/backup and bin/restore. Takes the password out of the database URL in $URL
# and hands it to libpq in PGPASSWORD instead, so that it never stands on a command line,
# where any user of the machine can read it (`ps`, /proc/*/cmdline).
pg_url_without_password() {
  local scheme="${URL%%://*}" rest="${URL#*://}" userinfo password encoded
  case "$rest" in *@*) ;; *) return 0 ;; esac
  userinfo="${rest%@*}"
  case "$userinfo" in *:*) ;; *) return 0 ;; esac
  encoded="${userinfo#*:}"
  # The URL's password is percent-encoded; PGPASSWORD holds it as it is.
  printf -v password '%b' "${encoded//%/\\x}"
  export PGPASSWORD="$password"
  URL="$scheme://${userinfo%%:*}@${rest##*@}"
}
