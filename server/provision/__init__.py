"""Broker credentials for the office: the CA, the broker's files, each reader's certificate, password and YAML."""
