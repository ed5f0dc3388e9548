"""Read OpenFOAM ASCII fields and meshes (what the neuralOperator training,
benchmark and tests need; no OpenFOAM Python bindings required)."""
import os
import re

import numpy as np

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _values(text, count=None):
    """The numbers of a uniform/nonuniform value starting in @p text."""
    text = text.lstrip()
    if text.startswith("uniform"):
        body = text[len("uniform"):].split(";")[0]
        return np.array(re.findall(NUMBER, body), dtype=float)[None, :], True
    if re.match(r"nonuniform\s+(List<\w+>\s*)?0\s*\(\s*\)", text):
        return np.zeros((0, 1)), False
    match = re.match(r"nonuniform\s+List<(\w+)>\s*(\d+)\s*\(", text)
    if not match:
        raise ValueError("cannot read value: " + text[:60])
    n = int(match.group(2))
    body = text[match.end():]
    semi, newline = body.find(";"), body.find("\n)")
    end = newline if 0 <= newline < semi else body.rfind(")", 0, semi)
    values = np.array(re.findall(NUMBER, body[:end].replace("(", " ").replace(")", " ")), dtype=float)
    return values.reshape(n, -1) if n else np.zeros((0, 1)), False


def read_field(path):
    """(internal values [n, ncmpt] or [1, ncmpt] if uniform, {patch: dict})."""
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    i = text.index("internalField") + len("internalField")
    internal, _ = _values(text[i:])
    patches = {}
    j = text.index("boundaryField")
    body = text[text.index("{", j) + 1:]
    pos = 0
    while True:
        m = re.compile(r"\s*(\w+)\s*\{").match(body, pos)
        if not m:
            break
        name, start = m.group(1), m.end()
        depth, k = 1, start
        while depth:
            if body[k] == "{":
                depth += 1
            elif body[k] == "}":
                depth -= 1
            k += 1
        entry = body[start:k - 1]
        info = {"type": re.search(r"type\s+(\w+);", entry).group(1)}
        v = re.search(r"\bvalue\s+", entry)
        if v:
            info["value"], info["uniform"] = _values(entry[v.end():])
            info["valueText"] = entry[v.end():].split(";")[0].strip()
        patches[name] = info
        pos = k
    return internal, patches


def read_list(path, dtype=float):
    """An OpenFOAM list file (owner, neighbour, faces' counts...)."""
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    body = text[text.index("}", text.index("FoamFile")) + 1:]
    m = re.search(r"(\d+)\s*\(", body)
    n = int(m.group(1))
    values = np.array(re.findall(NUMBER, body[m.end():body.rindex(")")]), dtype=dtype)
    return values[:n] if values.ndim == 1 else values


def face_area_vectors(mesh_dir, with_centres=False):
    """S_f of every face of an ASCII polyMesh (points, faces): half the sum of
    the edge cross products, exact for planar faces; with_centres also the
    mean of each face's points (its centre for a parallelogram)."""
    def body(name):
        text = open(os.path.join(mesh_dir, name)).read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = re.sub(r"//[^\n]*", "", text)
        return text[text.index("}", text.index("FoamFile")) + 1:]
    points = np.array(re.findall(NUMBER, body("points")), dtype=float)[1:].reshape(-1, 3)
    faces = [np.array(f.split(), dtype=int) for f in re.findall(r"\d+\s*\(([\d\s]+)\)", body("faces"))]
    areas = np.zeros((len(faces), 3))
    for k, f in enumerate(faces):
        p = points[f]
        areas[k] = 0.5*np.cross(p, np.roll(p, -1, axis=0)).sum(0)
    if with_centres:
        return areas, np.array([points[f].mean(0) for f in faces])
    return areas


def read_boundary(path):
    """{patch: (nFaces, startFace)} in file order."""
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    result = {}
    for m in re.finditer(r"(\w+)\s*\{([^}]*)\}", text[text.index("}", text.index("FoamFile")) + 1:]):
        nf = re.search(r"nFaces\s+(\d+);", m.group(2))
        sf = re.search(r"startFace\s+(\d+);", m.group(2))
        if nf and sf:
            result[m.group(1)] = (int(nf.group(1)), int(sf.group(1)))
    return result


def cell_net_flux(case, flux_path, mesh_dir="constant/polyMesh"):
    """Per-cell sum of outgoing face fluxes of a surfaceScalarField file."""
    mesh = os.path.join(case, mesh_dir)
    owner = read_list(os.path.join(mesh, "owner"), dtype=float).astype(int)
    neighbour = read_list(os.path.join(mesh, "neighbour"), dtype=float).astype(int)
    boundary = read_boundary(os.path.join(mesh, "boundary"))
    n_cells = max(owner.max(), neighbour.max() if neighbour.size else 0) + 1
    internal, patches = read_field(flux_path)
    n_int = neighbour.size
    phi = np.zeros(owner.size)
    if internal.shape[0] == 1 and n_int != 1:
        phi[:n_int] = internal[0, 0]
    else:
        phi[:n_int] = internal[:, 0]
    for name, (nf, start) in boundary.items():
        if nf == 0 or patches[name]["type"] == "empty":
            continue
        v = patches[name].get("value")
        if v is None:
            raise ValueError(f"{flux_path}: patch {name} has no value")
        phi[start:start + nf] = v[0, 0] if v.shape[0] == 1 else v[:, 0]
    net = np.zeros(n_cells)
    np.add.at(net, owner, phi)
    np.add.at(net, neighbour, -phi[:n_int])
    return net, phi
