"""Codec server for the Temporal UI (its remote-codec protocol): staff see decrypted payloads there.

POST /api/v1/codec/decode and /encode take and return {"payloads": [{"metadata": {k: base64}, "data": base64}]}.
Only supervisors and admins (the UI shows every application's data); each call is an audit row.
"""

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from temporalio.api.common.v1 import Payload

from api.schemas import CodecBody, CodecPayload
from api.security import require
from core.codec import CodecKeyError, EncryptionCodec
from db.models_security import StaffUser

router = APIRouter(prefix="/api/v1/codec", tags=["codec"])
Staff = Annotated[StaffUser, Depends(require("supervisor", "admin"))]


def _codec(request: Request) -> EncryptionCodec:
    codec = request.app.state.temporal_codec
    if codec is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "本系统未配置载荷加密密钥")
    return codec


def _in(body: CodecBody) -> list[Payload]:
    try:
        return [Payload(metadata={k: base64.b64decode(v, validate=True) for k, v in p.metadata.items()},
                        data=base64.b64decode(p.data, validate=True)) for p in body.payloads]
    except (binascii.Error, ValueError):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "载荷不是有效的 base64 编码") from None


def _out(payloads: list[Payload]) -> CodecBody:
    return CodecBody(payloads=[CodecPayload(metadata={k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                                            data=base64.b64encode(p.data).decode()) for p in payloads])


@router.post("/decode", response_model=CodecBody)
async def decode(body: CodecBody, request: Request, user: Staff) -> CodecBody:
    codec = _codec(request)
    try:
        return _out(await codec.decode(_in(body)))
    except (CodecKeyError, ValueError, Exception) as err:  # wrong key, tampered data (InvalidTag)
        if isinstance(err, HTTPException):
            raise
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "载荷无法解密（密钥不符或内容被改动）") from None


@router.post("/encode", response_model=CodecBody)
async def encode(body: CodecBody, request: Request, user: Staff) -> CodecBody:
    return _out(await _codec(request).encode(_in(body)))
