#!/bin/sh
# The Java program over HTTPS, trusting the server's CA the way a JVM application does: a
# truststore made by keytool, named by javax.net.ssl.trustStore. tests/test_sdk_clients.py runs
# this in a scratch directory with ALTERNATOR_CA and CLASSPATH set.
set -eu
# [docs:begin]
keytool -importcert -noprompt -alias alternator-ca -file "$ALTERNATOR_CA" \
    -keystore alternator-ca.p12 -storetype PKCS12 -storepass changeit
java -Djavax.net.ssl.trustStore=alternator-ca.p12 -Djavax.net.ssl.trustStorePassword=changeit \
    alternator.sdk.Main
# [docs:end]
