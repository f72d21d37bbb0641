namespace Safemount.Shared.DBus;

/// <summary>Header field codes of the a(yv) header array (D-Bus specification, "Header Fields").</summary>
public enum DBusHeaderField : byte
{
    /// <summary>o: the object the call is sent to.</summary>
    Path = 1,

    /// <summary>s: the interface of the method.</summary>
    Interface = 2,

    /// <summary>s: the method or signal name.</summary>
    Member = 3,

    /// <summary>s: the name of the error (ERROR messages).</summary>
    ErrorName = 4,

    /// <summary>u: the serial this message replies to.</summary>
    ReplySerial = 5,

    /// <summary>s: the connection the message is for (bus only).</summary>
    Destination = 6,

    /// <summary>s: the unique name of the sender (filled in by the bus).</summary>
    Sender = 7,

    /// <summary>g: the signature of the body (absent = empty body).</summary>
    Signature = 8,

    /// <summary>u: how many unix fds accompany the message (SCM_RIGHTS).</summary>
    UnixFds = 9,
}
