"""Payload encryption for Temporal: AES-256-GCM with key ids, so keys can rotate.

Every payload the API and the workers hand to Temporal (workflow inputs, update arguments and
results, query results, activity inputs and results, and — through the failure converter — error
messages and stack traces) is stored as

    metadata: encoding = "binary/encrypted", encryption-key-id = "<kid>"
    data:     12-byte nonce || AES-GCM(serialized original Payload, associated data = kid)

`DISCLOSURE_CODEC_KEYS="k2:<base64>,k1:<base64>"`: k2 encrypts, both decrypt. A payload without
this encoding (histories recorded before encryption) passes through unchanged.
"""

import base64
import binascii
import dataclasses
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class CodecKeyError(ValueError):
    pass


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """"k2:base64,k1:base64" → [(kid, 32-byte key), …], encrypting key first."""
    keys: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kid, sep, encoded = part.partition(":")
        if not sep or not kid.strip():
            raise CodecKeyError("DISCLOSURE_CODEC_KEYS: each key is kid:base64")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise CodecKeyError(f"DISCLOSURE_CODEC_KEYS: key {kid.strip()!r} is not base64") from None
        if len(key) != 32:
            raise CodecKeyError(f"DISCLOSURE_CODEC_KEYS: key {kid.strip()!r} must be 32 bytes (AES-256)")
        keys.append((kid.strip(), key))
    if not keys:
        raise CodecKeyError("DISCLOSURE_CODEC_KEYS is required (e.g. k1:$(openssl rand -base64 32))")
    if len({kid for kid, _ in keys}) != len(keys):
        raise CodecKeyError("DISCLOSURE_CODEC_KEYS: key ids must be unique")
    return keys


def new_key_spec(kid: str = "k1") -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise CodecKeyError("no codec keys")
        self._encrypt_kid, key = keys[0]
        self._encrypt = AESGCM(key)
        self._decrypt = {kid: AESGCM(k) for kid, k in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._encrypt.encrypt(nonce, payload.SerializeToString(), self._encrypt_kid.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self._encrypt_kid.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # not ours: recorded before encryption
        kid = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._decrypt.get(kid)
        if cipher is None:
            raise CodecKeyError(f"payload encrypted with unknown key id {kid!r}")
        plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], kid.encode())
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded


def codec_from_spec(spec: str) -> EncryptionCodec:
    return EncryptionCodec(parse_keys(spec))


def encrypted_data_converter(spec: str) -> DataConverter:
    """The Pydantic converter with encryption; failures' messages and traces are encrypted too."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec_from_spec(spec),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
