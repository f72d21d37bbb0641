namespace Safemount.Shared.Protocol;

/// <summary>The protocol versions this build speaks; HELLO carries a range, HELLO_REPLY the choice.</summary>
public static class ProtocolVersion
{
    public const uint Min = 1;

    public const uint Max = 1;
}
