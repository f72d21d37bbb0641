namespace Safemount.Shared.Protocol;

/// <summary>
/// Why an exchange failed: the reason of a <see cref="ProtocolException"/> and the u32 code of
/// an ERROR message. Values are wire-stable; 0 is never sent.
/// </summary>
public enum ProtocolErrorCode : uint
{
    /// <summary>A bug or resource failure on the sending side.</summary>
    Internal = 1,

    /// <summary>No protocol version in common.</summary>
    VersionMismatch = 2,

    /// <summary>A message whose bytes do not parse (bad length, bad string, reserved bits set).</summary>
    MalformedMessage = 3,

    /// <summary>A well-formed message of a type not expected at this step.</summary>
    UnexpectedMessage = 4,

    /// <summary>A datagram larger than <see cref="ProtocolLimits.MaxMessageSize"/> (MSG_TRUNC).</summary>
    MessageTooLarge = 5,

    /// <summary>fds on a message that carries none, or after setup.</summary>
    UnexpectedFds = 6,

    /// <summary>More fds than the message carries (or MSG_CTRUNC).</summary>
    TooManyFds = 7,

    /// <summary>A message that must carry an fd came without one.</summary>
    MissingFd = 8,

    /// <summary>An fd failed its fstat check (wrong file type or device number).</summary>
    BadFdType = 9,

    /// <summary>A deadline passed while waiting for the peer.</summary>
    Timeout = 10,

    /// <summary>The peer closed the connection.</summary>
    PeerClosed = 11,

    /// <summary>The peer is not allowed (SO_PEERCRED uid is not 0) or activation is wrong.</summary>
    PermissionDenied = 12,

    /// <summary>The fs options were refused by the service.</summary>
    InvalidOptions = 13,

    /// <summary>The filesystem uses a feature the service does not support.</summary>
    UnsupportedFeature = 14,

    /// <summary>The filesystem metadata is corrupt.</summary>
    CorruptFilesystem = 15,

    /// <summary>Reading or writing the device failed.</summary>
    IoError = 16,

    /// <summary>The mount was refused for another reason given in the text.</summary>
    MountRefused = 17,

    /// <summary>The helper gave up (ABORT).</summary>
    Aborted = 18,

    /// <summary>A socket or system call failed locally.</summary>
    SystemError = 19,
}
