namespace Safemount.Shared.DBus;

/// <summary>
/// Named bounds of the D-Bus client. Every length read from the peer is checked against one of
/// these before anything is sliced or allocated. The spec's own maxima (D-Bus specification,
/// "Valid Names" / "Message Format") are larger; this client only ever expects short replies.
/// </summary>
public static class DBusLimits
{
    /// <summary>Largest message (header, fields, padding and body) sent or accepted, bytes. The spec allows 128 MiB.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    /// <summary>The fixed part of every header: endianness, type, flags, version, body length, serial (bytes).</summary>
    public const int FixedHeaderBytes = 12;

    /// <summary>Largest header-field array (bytes). The spec bounds arrays at 64 MiB.</summary>
    public const int MaxHeaderFieldsBytes = 64 * 1024;

    /// <summary>Longest SASL line the server may send, CRLF included (bytes).</summary>
    public const int MaxSaslLineBytes = 1024;

    /// <summary>Container nesting allowed while reading (the spec allows 32 arrays + 32 structs).</summary>
    public const int MaxNestingDepth = 64;

    /// <summary>Signatures are at most 255 bytes (their length is one byte).</summary>
    public const int MaxSignatureBytes = 255;

    /// <summary>Most unix fds one outgoing message carries (SCM_RIGHTS in one sendmsg).</summary>
    public const int MaxFdsPerMessage = 8;

    /// <summary>Messages that are not the awaited reply (signals such as NameAcquired) skipped before giving up.</summary>
    public const int MaxUnrelatedMessages = 64;
}
