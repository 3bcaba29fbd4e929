#include "cdrift/classify/timestamps.hpp"
#include "pipeline/inspect_file.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace cdrift;

namespace {

// Captured from `docker inspect` (docker.io 20.10) and `podman inspect` (podman 4.3) of
// a running container on the test machines; one line per top-level member.
const char* const docker_inspect = R"json([{
 "Id": "86fd915fd50855e6a196666b36cef321141384e5fe60bb2bf8ca80b974a5d7a6",
 "Created": "2026-12-03T12:59:29.386958368Z",
 "Path": "sleep",
 "Args": ["1000"],
 "State": {"Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":15439,"ExitCode":0,"Error":"","StartedAt":"2026-12-03T12:59:31.603186787Z","FinishedAt":"0001-01-01T00:00:00Z"},
 "Image": "sha256:cabb50c1680744e4021aaa096e6429cd06e209dca80673e4f63d534ef59588fd",
 "ResolvConfPath": "/tmp/judgment-rt/docker/root/containers/86fd915fd50855e6a196666b36cef321141384e5fe60bb2bf8ca80b974a5d7a6/resolv.conf",
 "HostnamePath": "/tmp/judgment-rt/docker/root/containers/86fd915fd50855e6a196666b36cef321141384e5fe60bb2bf8ca80b974a5d7a6/hostname",
 "HostsPath": "/tmp/judgment-rt/docker/root/containers/86fd915fd50855e6a196666b36cef321141384e5fe60bb2bf8ca80b974a5d7a6/hosts",
 "LogPath": "/tmp/judgment-rt/docker/root/containers/86fd915fd50855e6a196666b36cef321141384e5fe60bb2bf8ca80b974a5d7a6/86fd915fd50855e6a196666b36cef321141384e5fe60bb2bf8ca80b974a5d7a6-json.log",
 "Name": "/jinspect",
 "RestartCount": 0,
 "Driver": "vfs",
 "Platform": "linux",
 "MountLabel": "",
 "ProcessLabel": "",
 "AppArmorProfile": "",
 "ExecIDs": null,
 "HostConfig": {"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{}},"NetworkMode":"none","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"CapAdd":null,"CapDrop":null,"CgroupnsMode":"host","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"private","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":67108864,"Runtime":"runc","ConsoleSize":[0,0],"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"KernelMemory":0,"KernelMemoryTCP":0,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":false,"PidsLimit":null,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":["/proc/asound","/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware"],"ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]},
 "GraphDriver": {"Data":null,"Name":"vfs"},
 "Mounts": [],
 "Config": {"Hostname":"86fd915fd508","Domainname":"","User":"0","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sleep","1000"],"Image":"cdrift-judgment:1","Volumes":null,"WorkingDir":"/srv/app","Entrypoint":null,"OnBuild":null,"Labels":{}},
 "NetworkSettings": {"Bridge":"","SandboxID":"f1ce0f8cba366c5d67cd620d23fc566936639676cf5c03a28ccfa39793e542cd","HairpinMode":false,"LinkLocalIPv6Address":"","LinkLocalIPv6PrefixLen":0,"Ports":{},"SandboxKey":"/tmp/judgment-rt/docker/exec/netns/f1ce0f8cba36","SecondaryIPAddresses":null,"SecondaryIPv6Addresses":null,"EndpointID":"","Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","MacAddress":"","Networks":{"none":{"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"f3bb9d2196b7ef7af5ea9836eb04aa231202b9685c18887348c26f7265f0f7af","EndpointID":"f463cd1915fe62bae2bef4478b6165f5d72b87970a78987167bd08d2b8415bf8","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"","DriverOpts":null}}}
}])json";

const char* const podman_inspect = R"json([{
 "Id": "94503be07243e3e2058d4cb14fceba4ac3a59f24eada44a09d2f8697f2d92a17",
 "Created": "2026-12-03T12:59:33.990671943Z",
 "Path": "sleep",
 "Args": ["1000"],
 "State": {"OciVersion":"1.0.2-dev","Status":"running","Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":15546,"ConmonPid":15536,"ExitCode":0,"Error":"","StartedAt":"2026-12-03T12:59:34.222104643Z","FinishedAt":"0001-01-01T00:00:00Z","Health":{"Status":"","FailingStreak":0,"Log":null},"CgroupPath":"/libpod_parent/libpod-94503be07243e3e2058d4cb14fceba4ac3a59f24eada44a09d2f8697f2d92a17","CheckpointedAt":"0001-01-01T00:00:00Z","RestoredAt":"0001-01-01T00:00:00Z"},
 "Image": "f579c775c9bb342a6829f81aa028b103db0ff5a9ba5a8ea4c375aba9242332eb",
 "ImageDigest": "sha256:4b8311da6c94a54a1f0145dd239e2f2b0a0c39dbce34b62e9ca6925d17c17015",
 "ImageName": "localhost/cdrift-judgment:1",
 "Rootfs": "",
 "Pod": "",
 "ResolvConfPath": "",
 "HostnamePath": "/tmp/judgment-rt/podman/run/overlay-containers/94503be07243e3e2058d4cb14fceba4ac3a59f24eada44a09d2f8697f2d92a17/userdata/hostname",
 "HostsPath": "/tmp/judgment-rt/podman/run/overlay-containers/94503be07243e3e2058d4cb14fceba4ac3a59f24eada44a09d2f8697f2d92a17/userdata/hosts",
 "StaticDir": "/tmp/judgment-rt/podman/root/overlay-containers/94503be07243e3e2058d4cb14fceba4ac3a59f24eada44a09d2f8697f2d92a17/userdata",
 "OCIConfigPath": "/tmp/judgment-rt/podman/root/overlay-containers/94503be07243e3e2058d4cb14fceba4ac3a59f24eada44a09d2f8697f2d92a17/userdata/config.json",
 "OCIRuntime": "runc",
 "ConmonPidFile": "/tmp/judgment-rt/podman/run/overlay-containers/94503be07243e3e2058d4cb14fceba4ac3a59f24eada44a09d2f8697f2d92a17/userdata/conmon.pid",
 "PidFile": "/tmp/judgment-rt/podman/run/overlay-containers/94503be07243e3e2058d4cb14fceba4ac3a59f24eada44a09d2f8697f2d92a17/userdata/pidfile",
 "Name": "jinspect",
 "RestartCount": 0,
 "Driver": "overlay",
 "MountLabel": "",
 "ProcessLabel": "",
 "AppArmorProfile": "",
 "EffectiveCaps": ["CAP_AUDIT_WRITE","CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_MKNOD","CAP_NET_BIND_SERVICE","CAP_NET_RAW","CAP_SETFCAP","CAP_SETGID","CAP_SETPCAP","CAP_SETUID","CAP_SYS_CHROOT"],
 "BoundingCaps": ["CAP_AUDIT_WRITE","CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_MKNOD","CAP_NET_BIND_SERVICE","CAP_NET_RAW","CAP_SETFCAP","CAP_SETGID","CAP_SETPCAP","CAP_SETUID","CAP_SYS_CHROOT"],
 "ExecIDs": [],
 "GraphDriver": {"Name":"overlay","Data":{"LowerDir":"/tmp/judgment-rt/podman/root/overlay/fd80bc01ac4843ad2bef624eb5529493094f71c92a66f5e3d27e283426f2abd6/diff:/tmp/judgment-rt/podman/root/overlay/2a74eb22dab9c792cef6d14f42056b690c333845d4e2097d1d5f42bc32a9885b/diff:/tmp/judgment-rt/podman/root/overlay/b87b2ac1ef39a837ea27a1e66590fd52adaba4f8018b45edef1d94548a5e6b59/diff","MergedDir":"/tmp/judgment-rt/podman/root/overlay/e732d3ce8c943f097e81066a719f25ef05c4576383638b83c10360b913412423/merged","UpperDir":"/tmp/judgment-rt/podman/root/overlay/e732d3ce8c943f097e81066a719f25ef05c4576383638b83c10360b913412423/diff","WorkDir":"/tmp/judgment-rt/podman/root/overlay/e732d3ce8c943f097e81066a719f25ef05c4576383638b83c10360b913412423/work"}},
 "Mounts": [],
 "Dependencies": [],
 "NetworkSettings": {"EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"","Bridge":"","SandboxID":"","HairpinMode":false,"LinkLocalIPv6Address":"","LinkLocalIPv6PrefixLen":0,"Ports":{},"SandboxKey":""},
 "Namespace": "",
 "IsInfra": false,
 "IsService": false,
 "Config": {"Hostname":"94503be07243","Domainname":"","User":"0","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["container=podman","PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm","HOME=/root","HOSTNAME=94503be07243"],"Cmd":["sleep","1000"],"Image":"localhost/cdrift-judgment:1","Volumes":null,"WorkingDir":"/srv/app","Entrypoint":"","OnBuild":null,"Labels":{"io.buildah.version":"1.28.2"},"Annotations":{"io.container.manager":"libpod","io.kubernetes.cri-o.Created":"2026-12-03T12:59:33.990671943Z","io.kubernetes.cri-o.TTY":"false","io.podman.annotations.autoremove":"FALSE","io.podman.annotations.init":"FALSE","io.podman.annotations.privileged":"FALSE","io.podman.annotations.publish-all":"FALSE","org.opencontainers.image.base.digest":"sha256:8c4c68683ea61823c31d39eb2a56aabac8b7711ea31d31cc393eea01bf713cff","org.opencontainers.image.base.name":"localhost/cdrift-judgment-base:1","org.opencontainers.image.stopSignal":"15"},"StopSignal":15,"HealthcheckOnFailureAction":"none","CreateCommand":["podman","run","-d","--name","jinspect","--network","none","-u","0","cdrift-judgment:1","sleep","1000"],"Umask":"0022","Timeout":0,"StopTimeout":10,"Passwd":true,"sdNotifyMode":"container"},
 "HostConfig": {"Binds":[],"CgroupManager":"cgroupfs","CgroupMode":"host","ContainerIDFile":"","LogConfig":{"Type":"k8s-file","Config":null,"Path":"/tmp/judgment-rt/podman/root/overlay-containers/94503be07243e3e2058d4cb14fceba4ac3a59f24eada44a09d2f8697f2d92a17/userdata/ctr.log","Tag":"","Size":"0B"},"NetworkMode":"none","PortBindings":{},"RestartPolicy":{"Name":"","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"CapAdd":[],"CapDrop":[],"Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":[],"GroupAdd":[],"IpcMode":"shareable","Cgroup":"","Cgroups":"default","Links":null,"OomScoreAdj":0,"PidMode":"private","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":[],"Tmpfs":{},"UTSMode":"private","UsernsMode":"","ShmSize":65536000,"Runtime":"oci","ConsoleSize":[0,0],"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":null,"BlkioDeviceReadBps":null,"BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"BlkioDeviceWriteIOps":null,"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DiskQuota":0,"KernelMemory":0,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":0,"OomKillDisable":false,"PidsLimit":2048,"Ulimits":[{"Name":"RLIMIT_NOFILE","Soft":20000,"Hard":20000},{"Name":"RLIMIT_NPROC","Soft":32768,"Hard":32768}],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"CgroupConf":null}
}])json";

// `docker image inspect` of the same image: an inspect document, but not a container's.
const char* const docker_image_inspect =
    R"json([{"Id":"sha256:cabb50c1680744e4021aaa096e6429cd06e209dca80673e4f63d534ef59588fd","RepoTags":["cdrift-judgment:1"],"RepoDigests":[],"Parent":"sha256:afd94174d333d2161c01d30cdcbb53a0b62ad15d63a05d70d3c86952befbaa07","Comment":"","Created":"2026-12-03T12:56:54.110313121Z","Container":"cfaf644943248b59d44b00757e776cb535a8cb53a20f2583ce13b4938135c735","ContainerConfig":{"Hostname":"cfaf64494324","Domainname":"","User":"app","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh","-c","#(nop) WORKDIR /srv/app"],"Image":"sha256:afd94174d333d2161c01d30cdcbb53a0b62ad15d63a05d70d3c86952befbaa07","Volumes":null,"WorkingDir":"/srv/app","Entrypoint":null,"OnBuild":null,"Labels":{}},"DockerVersion":"20.10.24+dfsg1","Author":"","Config":{"Hostname":"","Domainname":"","User":"app","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":null,"Image":"sha256:afd94174d333d2161c01d30cdcbb53a0b62ad15d63a05d70d3c86952befbaa07","Volumes":null,"WorkingDir":"/srv/app","Entrypoint":null,"OnBuild":null,"Labels":null},"Architecture":"amd64","Os":"linux","Size":90171441,"VirtualSize":90171441,"GraphDriver":{"Data":null,"Name":"vfs"},"RootFS":{"Type":"layers","Layers":["sha256:b87b2ac1ef39a837ea27a1e66590fd52adaba4f8018b45edef1d94548a5e6b59","sha256:b8ab60de91703bf8d59ea1ef06f2be4a53737bcde4a71e3085f42bca0fc7523c","sha256:ea4e1a90d77098232e4836b130b6fd46e0a5a01ad9ebd2b1309057cc0d162eb7"]},"Metadata":{"LastTagTime":"2026-12-03T12:56:59.55208491Z"}}])json";

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/cdrift-inspect-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { ::unlink(path.c_str()); }
};

} // namespace

TEST_CASE("inspect file: docker inspect output") {
  TempFile f(docker_inspect);
  auto info = read_inspect_file(f.path);
  REQUIRE(info);
  CHECK(info->id == "86fd915fd50855e6a196666b36cef321141384e5fe60bb2bf8ca80b974a5d7a6");
  CHECK(info->name == "jinspect");
  CHECK(info->image == "cdrift-judgment:1");
  CHECK(info->image_id ==
        "sha256:cabb50c1680744e4021aaa096e6429cd06e209dca80673e4f63d534ef59588fd");
  CHECK(info->created == "2026-12-03T12:59:29.386958368Z");
  CHECK(info->started == "2026-12-03T12:59:31.603186787Z");
  CHECK(info->user == "0");
  REQUIRE(info->created_epoch);
  CHECK(format_utc(*info->created_epoch) == "2026-12-03 12:59:29 UTC");
  CHECK(info->created_evidence.find("docker inspect file") == 0);
  CHECK_FALSE(inspect_image_mismatch(
      *info, f.path, "sha256:cabb50c1680744e4021aaa096e6429cd06e209dca80673e4f63d534ef59588fd"));
  auto w = inspect_image_mismatch(*info, f.path, "sha256:" + std::string(64, 'a'));
  REQUIRE(w);
  CHECK(w->find("the container runs image sha256:cabb50c1") != std::string::npos);
  CHECK(w->find("not the image given (sha256:aaaa") != std::string::npos);
  CHECK_FALSE(inspect_image_mismatch(*info, f.path, ""));
}

TEST_CASE("inspect file: podman inspect output, and one object without the array") {
  TempFile f(podman_inspect);
  auto info = read_inspect_file(f.path);
  REQUIRE(info);
  CHECK(info->name == "jinspect");
  CHECK(info->image == "localhost/cdrift-judgment:1");
  // podman prints the bare hex
  CHECK(info->image_id ==
        "sha256:f579c775c9bb342a6829f81aa028b103db0ff5a9ba5a8ea4c375aba9242332eb");
  CHECK(info->started == "2026-12-03T12:59:34.222104643Z");
  CHECK(info->created_evidence.find("podman inspect file") == 0);
  CHECK_FALSE(inspect_image_mismatch(
      *info, f.path, "f579c775c9bb342a6829f81aa028b103db0ff5a9ba5a8ea4c375aba9242332eb"));

  std::string one(podman_inspect);
  one = one.substr(one.find('{'));
  one = one.substr(0, one.rfind('}') + 1);
  TempFile g(one);
  auto again = read_inspect_file(g.path);
  REQUIRE(again);
  CHECK(again->id == info->id);
  CHECK(again->created_epoch == info->created_epoch);
}

TEST_CASE("inspect file: anything else is a usage error naming the file") {
  auto usage = [](const std::string& content, const char* needle) {
    TempFile f(content);
    auto r = read_inspect_file(f.path);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::usage);
    CHECK(r.error().message.find("--inspect " + f.path) == 0);
    CHECK(r.error().message.find(needle) != std::string::npos);
    CHECK(r.error().message.find('\n') == std::string::npos);
  };
  usage(docker_image_inspect, "not the inspect output of a container");
  usage("[]", "found an array of 0");
  usage(std::string("[") + docker_inspect + "," + docker_inspect + "]", "found an array of 2");
  usage("{\"Id\": 1}", "not the inspect output of a container");
  usage("not json", "");
  usage("\"a string\"", "not a docker or podman inspect document");
  usage(R"({"Id":"x","Image":"sha256:ab","State":{},"Created":"yesterday"})",
        "not an RFC 3339 time");
  auto missing = read_inspect_file("/nonexistent/inspect.json");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind == ErrorKind::usage);
  CHECK(missing.error().message.find("cannot open") != std::string::npos);
}
