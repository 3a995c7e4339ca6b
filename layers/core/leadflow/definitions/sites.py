"""Sites: the websites allowed to send tracking events, each identified by a public write key."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from leadflow.definitions.base import DefinitionModel, DisplayName, Origin, Slug

WriteKey = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,128}$"),
    Field(
        description="a public key (8 to 128 letters, digits, dashes, underscores), like analytics write keys"
    ),
]


class Site(DefinitionModel):
    """A website that may post to ``/v1/events``; the write key says which site, the origin check says who."""

    id: Annotated[Slug, Field(description="unique among sites")]
    name: Annotated[DisplayName | None, Field(description="the site's name in reports")] = None
    write_key: Annotated[
        WriteKey, Field(description="unique among sites; public, sent by the tracking snippet")
    ]
    allowed_origins: Annotated[
        list[Origin],
        Field(
            min_length=1,
            description='browser origins allowed to send events, such as "https://www.example.com"',
        ),
    ]
