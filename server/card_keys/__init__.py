"""Cards that cannot be copied: the office's card keys and the cryptography that checks a tap.

`sun.py` NTAG 424 DNA Secure Unique NFC messages, `felica.py` FeliCa Lite-S MAC, `diversify.py`
per-tag keys from an office master key (AN10922), `keyfile.py` where the master keys live. All AES,
CMAC and 3DES come from `cryptography`; nothing here does I/O except `keyfile.py`.
"""
