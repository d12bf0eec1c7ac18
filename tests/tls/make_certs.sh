#!/bin/sh
# SPDX-License-Identifier: MIT
# Test fixture: makes the TLS test certificates in DIR (the build folder),
# with the openssl CLI, so that no private key is ever committed.
#   ca.pem            test CA (ca.key)
#   server.pem/.key   "localhost", SAN DNS:localhost and IP:127.0.0.1, by ca
#   client.pem/.key   a client certificate by ca (mutual TLS)
#   ca2.pem           a second, unrelated CA (ca2.key)
#   client2.pem/.key  a client certificate by ca2
#   expired.pem/.key  like server.pem, but valid only during 2020-01-01
# EC P-256 keys keep generation fast. Usage: make_certs.sh DIR
set -eu
dir=${1:?usage: make_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

# A self-signed CA: make_ca NAME CN
make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$1.key" -out "$1.pem" -days 3650 -subj "/CN=$2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# A leaf signed by a CA: make_leaf NAME CA CN EXTENDED_USAGE [SAN]
make_leaf() {
	set -- "$@" ""
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
	{
		echo "basicConstraints=CA:FALSE"
		echo "keyUsage=critical,digitalSignature"
		echo "extendedKeyUsage=$4"
		if [ -n "$5" ]; then
			echo "subjectAltName=$5"
		fi
	} >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
	    -CAcreateserial -days 3650 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

make_ca ca "corpc test CA"
make_ca ca2 "corpc unrelated test CA"
make_leaf server ca localhost serverAuth "DNS:localhost,IP:127.0.0.1"
make_leaf client ca "corpc test client" clientAuth "DNS:client.corpc.test"
make_leaf client2 ca2 "corpc other client" clientAuth

# The expired server certificate: `openssl ca` is the CLI's way to set
# explicit validity dates (openssl 3.0's x509 and req only count days).
rm -rf expired.db
mkdir expired.db
: >expired.db/index.txt
echo 1000 >expired.db/serial
cat >expired.db/ca.cnf <<CNF
[ca]
default_ca = test_ca
[test_ca]
database = expired.db/index.txt
serial = expired.db/serial
new_certs_dir = expired.db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
x509_extensions = leaf
[any]
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
CNF
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout expired.key -out expired.csr -subj "/CN=localhost" 2>/dev/null
openssl ca -batch -config expired.db/ca.cnf -in expired.csr -out expired.pem \
    -startdate 20200101000000Z -enddate 20200102000000Z -notext 2>/dev/null
rm -rf expired.csr expired.db ca.srl ca2.srl

# Readable by the tests; the keys stay private to this user.
chmod 644 ./*.pem
for f in ca server client ca2 client2 expired; do
	test -s "$f.pem" && test -s "$f.key"
done
openssl verify -CAfile ca.pem server.pem client.pem >/dev/null
openssl verify -CAfile ca2.pem client2.pem >/dev/null
