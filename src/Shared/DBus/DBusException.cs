namespace Safemount.Shared.DBus;

/// <summary>
/// A failed D-Bus exchange. <see cref="ErrorName"/> is set when the peer answered with an ERROR
/// message (e.g. "org.freedesktop.systemd1.UnitExists"); the message is then the peer's text.
/// Otherwise it is a local or transport failure: bad bytes, a bound exceeded, a deadline passed,
/// authentication refused or the connection lost.
/// </summary>
public sealed class DBusException : Exception
{
    public DBusException(string message, string? errorName = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorName = errorName;
    }

    /// <summary>The ERROR_NAME header field of the peer's error reply, or null.</summary>
    public string? ErrorName { get; }
}
