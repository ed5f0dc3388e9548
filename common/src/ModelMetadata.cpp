#include "mlcfd/ModelMetadata.h"
#include "mlcfd/ModelError.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <set>

namespace mlcfd
{

const char* const ModelMetadata::archiveEntry = "mlcfd.json";

namespace
{

using json = nlohmann::json;

std::string entryError(const std::string& entry, const std::string& problem)
{
    return std::string("metadata (") + ModelMetadata::archiveEntry + ") entry '" + entry + "' " + problem;
}

std::vector<std::string> readNames(const json& j, const char* entry, const std::string& source)
{
    if (!j.contains(entry))
    {
        throw ModelError(source, entryError(entry, "is missing"));
    }
    const json& list = j.at(entry);
    if (!list.is_array() || list.empty())
    {
        throw ModelError(source, entryError(entry, "must be a non-empty list of names"));
    }
    std::vector<std::string> names;
    for (const json& name : list)
    {
        if (!name.is_string() || name.get<std::string>().empty())
        {
            throw ModelError(source, entryError(entry, "must hold non-empty strings"));
        }
        names.push_back(name.get<std::string>());
    }
    return names;
}

std::vector<double> readNumbers(const json& j, const char* entry, const std::string& source)
{
    std::vector<double> values;
    if (!j.contains(entry))
    {
        return values;
    }
    const json& list = j.at(entry);
    if (!list.is_array())
    {
        throw ModelError(source, entryError(entry, "must be a list of numbers"));
    }
    for (const json& v : list)
    {
        if (!v.is_number())
        {
            throw ModelError(source, entryError(entry, "must be a list of numbers"));
        }
        values.push_back(v.get<double>());
    }
    return values;
}

// Empty means identity; otherwise the size must match and the scale be > 0.
void checkNormalisation(std::vector<double>& mean, std::vector<double>& scale, std::size_t count,
    const std::string& meanName, const std::string& scaleName, const std::string& source)
{
    if (mean.empty()) mean.assign(count, 0.0);
    if (scale.empty()) scale.assign(count, 1.0);
    if (mean.size() != count)
    {
        throw ModelError(source, entryError(meanName, "has " + std::to_string(mean.size()) + " values for "
                                                          + std::to_string(count) + " names"));
    }
    if (scale.size() != count)
    {
        throw ModelError(source, entryError(scaleName, "has " + std::to_string(scale.size()) + " values for "
                                                           + std::to_string(count) + " names"));
    }
    for (std::size_t i = 0; i < count; ++i)
    {
        if (!std::isfinite(mean[i]))
        {
            throw ModelError(source, entryError(meanName, "holds a non-finite value"));
        }
        if (!std::isfinite(scale[i]) || scale[i] <= 0)
        {
            throw ModelError(source, entryError(scaleName, "must hold finite values > 0"));
        }
    }
}

void checkUnique(const std::vector<std::string>& names, const char* entry, const std::string& source)
{
    std::set<std::string> seen;
    for (const auto& name : names)
    {
        if (!seen.insert(name).second)
        {
            throw ModelError(source, entryError(entry, "names '" + name + "' twice"));
        }
    }
}

TrainingRange readTrainingRange(const json& j, std::size_t inputs, const std::string& source)
{
    const char* entry = "training_range";
    const json& r = j.at(entry);
    if (!r.is_object())
    {
        throw ModelError(source, entryError(entry, "must be an object with rows, min, max"
                                                   " (and optionally quantiles)"));
    }
    TrainingRange range;
    if (!r.contains("rows") || !r.at("rows").is_number_integer() || r.at("rows").get<long long>() <= 0)
    {
        throw ModelError(source, entryError("training_range/rows", "is missing or not a positive integer"));
    }
    range.rows = r.at("rows").get<std::size_t>();
    const auto values = [&](const json& list, const std::string& name)
    {
        if (!list.is_array() || list.size() != inputs)
        {
            throw ModelError(source, entryError("training_range/" + name,
                                         "must list " + std::to_string(inputs) + " numbers, one per input"));
        }
        std::vector<double> v;
        for (const json& x : list)
        {
            if (!x.is_number() || !std::isfinite(x.get<double>()))
            {
                throw ModelError(source, entryError("training_range/" + name, "holds a non-number"));
            }
            v.push_back(x.get<double>());
        }
        return v;
    };
    for (const char* name : {"min", "max"})
    {
        if (!r.contains(name))
        {
            throw ModelError(source, entryError(std::string("training_range/") + name, "is missing"));
        }
    }
    range.min = values(r.at("min"), "min");
    range.max = values(r.at("max"), "max");
    for (std::size_t i = 0; i < inputs; ++i)
    {
        if (range.min[i] > range.max[i])
        {
            throw ModelError(
                source, entryError("training_range", "has min > max for input " + std::to_string(i)));
        }
    }
    if (r.contains("unchecked"))
    {
        range.unchecked = readNames(r, "unchecked", source);
    }
    if (r.contains("quantiles"))
    {
        const json& q = r.at("quantiles");
        if (!q.is_object())
        {
            throw ModelError(source,
                entryError("training_range/quantiles", "must map levels (\"0.01\") to lists of numbers"));
        }
        std::map<double, std::vector<double>> byLevel;
        for (const auto& item : q.items())
        {
            double level = -1;
            try
            {
                level = std::stod(item.key());
            }
            catch (const std::exception&)
            {
            }
            if (!(level > 0 && level < 1))
            {
                throw ModelError(source, entryError("training_range/quantiles",
                                             "has level '" + item.key() + "'; levels are numbers in (0, 1)"));
            }
            byLevel[level] = values(item.value(), "quantiles/" + item.key());
        }
        for (auto& [level, v] : byLevel)
        {
            range.levels.push_back(level);
            range.quantiles.push_back(std::move(v));
        }
    }
    return range;
}

} // namespace

void ModelMetadata::validate(const std::string& source)
{
    if (formatVersion < 1 || formatVersion > currentFormatVersion)
    {
        throw ModelError(source, entryError("format_version", "is " + std::to_string(formatVersion)
                                                                  + "; this build reads versions 1 to "
                                                                  + std::to_string(currentFormatVersion)));
    }
    if (kind.empty())
    {
        throw ModelError(source, entryError("kind", "is missing or empty"));
    }
    if (inputs.empty())
    {
        throw ModelError(source, entryError("inputs", "is missing or empty"));
    }
    if (outputs.empty())
    {
        throw ModelError(source, entryError("outputs", "is missing or empty"));
    }
    checkUnique(inputs, "inputs", source);
    checkUnique(outputs, "outputs", source);
    checkNormalisation(inputMean, inputStd, inputs.size(), "input_mean", "input_std", source);
    checkNormalisation(outputMean, outputStd, outputs.size(), "output_mean", "output_std", source);
    const TrainingRange& range = trainingRange;
    if (!range.empty())
    {
        bool consistent = range.min.size() == inputs.size() && range.max.size() == inputs.size()
                          && range.quantiles.size() == range.levels.size();
        for (const auto& q : range.quantiles) consistent = consistent && q.size() == inputs.size();
        if (!consistent)
        {
            throw ModelError(
                source, entryError("training_range", "must give min, max and each"
                                                     " quantile for all "
                                                         + std::to_string(inputs.size()) + " inputs"));
        }
    }
    for (const std::string& name : trainingRange.unchecked)
    {
        if (std::find(inputs.begin(), inputs.end(), name) == inputs.end())
        {
            throw ModelError(source,
                entryError("training_range/unchecked", "names '" + name + "', which is not an input"));
        }
    }
    if (dtype != "float64" && dtype != "float32")
    {
        throw ModelError(
            source, entryError("dtype", "is '" + dtype + "'; expected \"float64\" or \"float32\""));
    }
}

ModelMetadata ModelMetadata::fromJson(const std::string& text, const std::string& source)
{
    json j;
    try
    {
        j = json::parse(text);
    }
    catch (const json::parse_error& e)
    {
        throw ModelError(
            source, std::string("metadata (") + archiveEntry + ") is not valid JSON: " + e.what());
    }
    if (!j.is_object())
    {
        throw ModelError(source, std::string("metadata (") + archiveEntry + ") must be a JSON object");
    }

    ModelMetadata m;
    if (!j.contains("format_version") || !j.at("format_version").is_number_integer())
    {
        throw ModelError(source, entryError("format_version", "is missing or not an integer"));
    }
    m.formatVersion = j.at("format_version").get<int>();
    if (!j.contains("kind") || !j.at("kind").is_string())
    {
        throw ModelError(source, entryError("kind", "is missing or not a string"));
    }
    m.kind = j.at("kind").get<std::string>();
    if (j.contains("description") && j.at("description").is_string())
    {
        m.description = j.at("description").get<std::string>();
    }
    m.inputs = readNames(j, "inputs", source);
    m.outputs = readNames(j, "outputs", source);
    m.inputMean = readNumbers(j, "input_mean", source);
    m.inputStd = readNumbers(j, "input_std", source);
    m.outputMean = readNumbers(j, "output_mean", source);
    m.outputStd = readNumbers(j, "output_std", source);
    if (j.contains("units"))
    {
        if (!j.at("units").is_object())
        {
            throw ModelError(source, entryError("units", "must map names to unit strings"));
        }
        for (const auto& item : j.at("units").items())
        {
            if (!item.value().is_string())
            {
                throw ModelError(source, entryError("units", "must map names to unit strings"));
            }
            m.units[item.key()] = item.value().get<std::string>();
        }
    }
    if (j.contains("dtype"))
    {
        if (!j.at("dtype").is_string())
        {
            throw ModelError(source, entryError("dtype", "must be \"float64\" or \"float32\""));
        }
        m.dtype = j.at("dtype").get<std::string>();
    }
    if (j.contains("constants"))
    {
        if (!j.at("constants").is_object())
        {
            throw ModelError(source, entryError("constants", "must map names to numbers"));
        }
        for (const auto& item : j.at("constants").items())
        {
            if (!item.value().is_number())
            {
                throw ModelError(source, entryError("constants", "must map names to numbers"));
            }
            m.constants[item.key()] = item.value().get<double>();
        }
    }
    if (j.contains("training_range"))
    {
        if (m.formatVersion < 2)
        {
            throw ModelError(source, entryError("training_range", "needs format_version 2 or later"));
        }
        m.trainingRange = readTrainingRange(j, m.inputs.size(), source);
    }
    m.validate(source);
    return m;
}

std::string ModelMetadata::toJson() const
{
    json j;
    j["format_version"] = formatVersion;
    j["kind"] = kind;
    if (!description.empty()) j["description"] = description;
    j["inputs"] = inputs;
    j["outputs"] = outputs;
    if (!inputMean.empty()) j["input_mean"] = inputMean;
    if (!inputStd.empty()) j["input_std"] = inputStd;
    if (!outputMean.empty()) j["output_mean"] = outputMean;
    if (!outputStd.empty()) j["output_std"] = outputStd;
    if (!units.empty()) j["units"] = units;
    j["dtype"] = dtype;
    if (!constants.empty()) j["constants"] = constants;
    if (!trainingRange.empty())
    {
        json r;
        r["rows"] = trainingRange.rows;
        r["min"] = trainingRange.min;
        r["max"] = trainingRange.max;
        if (!trainingRange.levels.empty())
        {
            json q = json::object();
            for (std::size_t l = 0; l < trainingRange.levels.size(); ++l)
            {
                std::ostringstream level;
                level << trainingRange.levels[l];
                q[level.str()] = trainingRange.quantiles[l];
            }
            r["quantiles"] = q;
        }
        if (!trainingRange.unchecked.empty()) r["unchecked"] = trainingRange.unchecked;
        j["training_range"] = r;
    }
    return j.dump(2);
}

} // namespace mlcfd
