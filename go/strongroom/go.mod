module strongroom.example/strongroom

go 1.19
