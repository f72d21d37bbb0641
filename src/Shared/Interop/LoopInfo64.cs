using System.Runtime.InteropServices;

namespace Safemount.Shared.Interop;

/// <summary>struct loop_info64 (linux/loop.h), 232 bytes.</summary>
[StructLayout(LayoutKind.Explicit, Size = 232)]
public unsafe struct loop_info64
{
    [FieldOffset(0)] public ulong lo_device;          // ioctl r/o
    [FieldOffset(8)] public ulong lo_inode;           // ioctl r/o
    [FieldOffset(16)] public ulong lo_rdevice;        // ioctl r/o
    [FieldOffset(24)] public ulong lo_offset;         // byte offset into the backing file
    [FieldOffset(32)] public ulong lo_sizelimit;      // bytes, 0 == max available
    [FieldOffset(40)] public uint lo_number;          // ioctl r/o
    [FieldOffset(44)] public uint lo_encrypt_type;    // obsolete, ignored
    [FieldOffset(48)] public uint lo_encrypt_key_size; // ioctl w/o
    [FieldOffset(52)] public uint lo_flags;           // LO_FLAGS_*
    [FieldOffset(56)] public fixed byte lo_file_name[64];
    [FieldOffset(120)] public fixed byte lo_crypt_name[64];
    [FieldOffset(184)] public fixed byte lo_encrypt_key[32]; // ioctl w/o
    [FieldOffset(216)] public fixed ulong lo_init[2];
}
