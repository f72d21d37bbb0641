namespace Safemount.Shared.DBus;

/// <summary>Byte 1 of every message (D-Bus specification, "Message Types").</summary>
public enum DBusMessageType : byte
{
    Invalid = 0,
    MethodCall = 1,
    MethodReturn = 2,
    Error = 3,
    Signal = 4,
}
