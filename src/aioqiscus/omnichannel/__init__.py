"""Qiscus Omnichannel (formerly Multichannel): the customer-service side.

A second face of aioqiscus over the same transport as
:class:`~aioqiscus.QiscusClient`: :class:`OmnichannelClient` (room tags,
customer info, resolve, bot messages and on/off, agents, divisions,
channels), a typed view of an Omnichannel room's options
(:func:`room_info`), and the Omnichannel webhooks
(:mod:`aioqiscus.omnichannel.webhooks`, unsigned: guard their URLs).

``import aioqiscus`` does not import this package::

    from aioqiscus.omnichannel import OmnichannelClient

    async with OmnichannelClient("kovof-123", secret) as omni:
        await omni.set_bot_active(room_id, False)
"""

from __future__ import annotations

from . import webhooks
from ._allocation import (
    Allocation,
    Allocator,
    NoAgentAvailableError,
    Policy,
    least_loaded,
)
from ._client import DEFAULT_BASE_URL, OmnichannelClient
from ._handover import Handover
from ._rooms import room_info
from .models import (
    Agent,
    AgentAssignment,
    Channel,
    ChannelDetails,
    CustomerInfo,
    CustomerProperty,
    CustomerRoom,
    Division,
    NamedRef,
    OmnichannelRoom,
    Resolution,
    RoomLog,
    RoomTag,
    Service,
    Source,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "Agent",
    "AgentAssignment",
    "Allocation",
    "Allocator",
    "Channel",
    "ChannelDetails",
    "CustomerInfo",
    "CustomerProperty",
    "CustomerRoom",
    "Division",
    "Handover",
    "NamedRef",
    "NoAgentAvailableError",
    "OmnichannelClient",
    "OmnichannelRoom",
    "Policy",
    "Resolution",
    "RoomLog",
    "RoomTag",
    "Service",
    "Source",
    "least_loaded",
    "room_info",
    "webhooks",
]
