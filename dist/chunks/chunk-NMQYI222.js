#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  PREDICATE_TYPE,
  REPORT_FORMAT,
  STATEMENT_TYPE,
  covers,
  formatEntry,
  gradeOf,
  loadPolicy,
  parseEntry,
  require_applicator,
  require_codegen,
  require_compile,
  require_core,
  require_core2,
  require_dependencies,
  require_discriminator,
  require_format,
  require_metadata,
  require_names,
  require_ref,
  require_ref_error,
  require_util,
  require_validate,
  require_validation,
  require_validation_error,
  rulesDigest,
  sha256File,
  shown
} from "./chunk-NYJPTFVT.js";
import {
  __commonJS,
  __toESM
} from "./chunk-UND5B5GE.js";

// node_modules/ajv/dist/vocabularies/dynamic/dynamicAnchor.js
var require_dynamicAnchor = __commonJS({
  "node_modules/ajv/dist/vocabularies/dynamic/dynamicAnchor.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.dynamicAnchor = void 0;
    var codegen_1 = require_codegen();
    var names_1 = require_names();
    var compile_1 = require_compile();
    var ref_1 = require_ref();
    var def = {
      keyword: "$dynamicAnchor",
      schemaType: "string",
      code: (cxt) => dynamicAnchor(cxt, cxt.schema)
    };
    function dynamicAnchor(cxt, anchor) {
      const { gen, it } = cxt;
      it.schemaEnv.root.dynamicAnchors[anchor] = true;
      const v = (0, codegen_1._)`${names_1.default.dynamicAnchors}${(0, codegen_1.getProperty)(anchor)}`;
      const validate = it.errSchemaPath === "#" ? it.validateName : _getValidate(cxt);
      gen.if((0, codegen_1._)`!${v}`, () => gen.assign(v, validate));
    }
    exports.dynamicAnchor = dynamicAnchor;
    function _getValidate(cxt) {
      const { schemaEnv, schema, self } = cxt.it;
      const { root, baseId, localRefs, meta } = schemaEnv.root;
      const { schemaId } = self.opts;
      const sch = new compile_1.SchemaEnv({ schema, schemaId, root, baseId, localRefs, meta });
      compile_1.compileSchema.call(self, sch);
      return (0, ref_1.getValidate)(cxt, sch);
    }
    exports.default = def;
  }
});

// node_modules/ajv/dist/vocabularies/dynamic/dynamicRef.js
var require_dynamicRef = __commonJS({
  "node_modules/ajv/dist/vocabularies/dynamic/dynamicRef.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.dynamicRef = void 0;
    var codegen_1 = require_codegen();
    var names_1 = require_names();
    var ref_1 = require_ref();
    var def = {
      keyword: "$dynamicRef",
      schemaType: "string",
      code: (cxt) => dynamicRef(cxt, cxt.schema)
    };
    function dynamicRef(cxt, ref) {
      const { gen, keyword, it } = cxt;
      if (ref[0] !== "#")
        throw new Error(`"${keyword}" only supports hash fragment reference`);
      const anchor = ref.slice(1);
      if (it.allErrors) {
        _dynamicRef();
      } else {
        const valid = gen.let("valid", false);
        _dynamicRef(valid);
        cxt.ok(valid);
      }
      function _dynamicRef(valid) {
        if (it.schemaEnv.root.dynamicAnchors[anchor]) {
          const v = gen.let("_v", (0, codegen_1._)`${names_1.default.dynamicAnchors}${(0, codegen_1.getProperty)(anchor)}`);
          gen.if(v, _callRef(v, valid), _callRef(it.validateName, valid));
        } else {
          _callRef(it.validateName, valid)();
        }
      }
      function _callRef(validate, valid) {
        return valid ? () => gen.block(() => {
          (0, ref_1.callRef)(cxt, validate);
          gen.let(valid, true);
        }) : () => (0, ref_1.callRef)(cxt, validate);
      }
    }
    exports.dynamicRef = dynamicRef;
    exports.default = def;
  }
});

// node_modules/ajv/dist/vocabularies/dynamic/recursiveAnchor.js
var require_recursiveAnchor = __commonJS({
  "node_modules/ajv/dist/vocabularies/dynamic/recursiveAnchor.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var dynamicAnchor_1 = require_dynamicAnchor();
    var util_1 = require_util();
    var def = {
      keyword: "$recursiveAnchor",
      schemaType: "boolean",
      code(cxt) {
        if (cxt.schema)
          (0, dynamicAnchor_1.dynamicAnchor)(cxt, "");
        else
          (0, util_1.checkStrictMode)(cxt.it, "$recursiveAnchor: false is ignored");
      }
    };
    exports.default = def;
  }
});

// node_modules/ajv/dist/vocabularies/dynamic/recursiveRef.js
var require_recursiveRef = __commonJS({
  "node_modules/ajv/dist/vocabularies/dynamic/recursiveRef.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var dynamicRef_1 = require_dynamicRef();
    var def = {
      keyword: "$recursiveRef",
      schemaType: "string",
      code: (cxt) => (0, dynamicRef_1.dynamicRef)(cxt, cxt.schema)
    };
    exports.default = def;
  }
});

// node_modules/ajv/dist/vocabularies/dynamic/index.js
var require_dynamic = __commonJS({
  "node_modules/ajv/dist/vocabularies/dynamic/index.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var dynamicAnchor_1 = require_dynamicAnchor();
    var dynamicRef_1 = require_dynamicRef();
    var recursiveAnchor_1 = require_recursiveAnchor();
    var recursiveRef_1 = require_recursiveRef();
    var dynamic = [dynamicAnchor_1.default, dynamicRef_1.default, recursiveAnchor_1.default, recursiveRef_1.default];
    exports.default = dynamic;
  }
});

// node_modules/ajv/dist/vocabularies/validation/dependentRequired.js
var require_dependentRequired = __commonJS({
  "node_modules/ajv/dist/vocabularies/validation/dependentRequired.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var dependencies_1 = require_dependencies();
    var def = {
      keyword: "dependentRequired",
      type: "object",
      schemaType: "object",
      error: dependencies_1.error,
      code: (cxt) => (0, dependencies_1.validatePropertyDeps)(cxt)
    };
    exports.default = def;
  }
});

// node_modules/ajv/dist/vocabularies/applicator/dependentSchemas.js
var require_dependentSchemas = __commonJS({
  "node_modules/ajv/dist/vocabularies/applicator/dependentSchemas.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var dependencies_1 = require_dependencies();
    var def = {
      keyword: "dependentSchemas",
      type: "object",
      schemaType: "object",
      code: (cxt) => (0, dependencies_1.validateSchemaDeps)(cxt)
    };
    exports.default = def;
  }
});

// node_modules/ajv/dist/vocabularies/validation/limitContains.js
var require_limitContains = __commonJS({
  "node_modules/ajv/dist/vocabularies/validation/limitContains.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var util_1 = require_util();
    var def = {
      keyword: ["maxContains", "minContains"],
      type: "array",
      schemaType: "number",
      code({ keyword, parentSchema, it }) {
        if (parentSchema.contains === void 0) {
          (0, util_1.checkStrictMode)(it, `"${keyword}" without "contains" is ignored`);
        }
      }
    };
    exports.default = def;
  }
});

// node_modules/ajv/dist/vocabularies/next.js
var require_next = __commonJS({
  "node_modules/ajv/dist/vocabularies/next.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var dependentRequired_1 = require_dependentRequired();
    var dependentSchemas_1 = require_dependentSchemas();
    var limitContains_1 = require_limitContains();
    var next = [dependentRequired_1.default, dependentSchemas_1.default, limitContains_1.default];
    exports.default = next;
  }
});

// node_modules/ajv/dist/vocabularies/unevaluated/unevaluatedProperties.js
var require_unevaluatedProperties = __commonJS({
  "node_modules/ajv/dist/vocabularies/unevaluated/unevaluatedProperties.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var codegen_1 = require_codegen();
    var util_1 = require_util();
    var names_1 = require_names();
    var error = {
      message: "must NOT have unevaluated properties",
      params: ({ params }) => (0, codegen_1._)`{unevaluatedProperty: ${params.unevaluatedProperty}}`
    };
    var def = {
      keyword: "unevaluatedProperties",
      type: "object",
      schemaType: ["boolean", "object"],
      trackErrors: true,
      error,
      code(cxt) {
        const { gen, schema, data, errsCount, it } = cxt;
        if (!errsCount)
          throw new Error("ajv implementation error");
        const { allErrors, props } = it;
        if (props instanceof codegen_1.Name) {
          gen.if((0, codegen_1._)`${props} !== true`, () => gen.forIn("key", data, (key) => gen.if(unevaluatedDynamic(props, key), () => unevaluatedPropCode(key))));
        } else if (props !== true) {
          gen.forIn("key", data, (key) => props === void 0 ? unevaluatedPropCode(key) : gen.if(unevaluatedStatic(props, key), () => unevaluatedPropCode(key)));
        }
        it.props = true;
        cxt.ok((0, codegen_1._)`${errsCount} === ${names_1.default.errors}`);
        function unevaluatedPropCode(key) {
          if (schema === false) {
            cxt.setParams({ unevaluatedProperty: key });
            cxt.error();
            if (!allErrors)
              gen.break();
            return;
          }
          if (!(0, util_1.alwaysValidSchema)(it, schema)) {
            const valid = gen.name("valid");
            cxt.subschema({
              keyword: "unevaluatedProperties",
              dataProp: key,
              dataPropType: util_1.Type.Str
            }, valid);
            if (!allErrors)
              gen.if((0, codegen_1.not)(valid), () => gen.break());
          }
        }
        function unevaluatedDynamic(evaluatedProps, key) {
          return (0, codegen_1._)`!${evaluatedProps} || !${evaluatedProps}[${key}]`;
        }
        function unevaluatedStatic(evaluatedProps, key) {
          const ps = [];
          for (const p in evaluatedProps) {
            if (evaluatedProps[p] === true)
              ps.push((0, codegen_1._)`${key} !== ${p}`);
          }
          return (0, codegen_1.and)(...ps);
        }
      }
    };
    exports.default = def;
  }
});

// node_modules/ajv/dist/vocabularies/unevaluated/unevaluatedItems.js
var require_unevaluatedItems = __commonJS({
  "node_modules/ajv/dist/vocabularies/unevaluated/unevaluatedItems.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var codegen_1 = require_codegen();
    var util_1 = require_util();
    var error = {
      message: ({ params: { len } }) => (0, codegen_1.str)`must NOT have more than ${len} items`,
      params: ({ params: { len } }) => (0, codegen_1._)`{limit: ${len}}`
    };
    var def = {
      keyword: "unevaluatedItems",
      type: "array",
      schemaType: ["boolean", "object"],
      error,
      code(cxt) {
        const { gen, schema, data, it } = cxt;
        const items = it.items || 0;
        if (items === true)
          return;
        const len = gen.const("len", (0, codegen_1._)`${data}.length`);
        if (schema === false) {
          cxt.setParams({ len: items });
          cxt.fail((0, codegen_1._)`${len} > ${items}`);
        } else if (typeof schema == "object" && !(0, util_1.alwaysValidSchema)(it, schema)) {
          const valid = gen.var("valid", (0, codegen_1._)`${len} <= ${items}`);
          gen.if((0, codegen_1.not)(valid), () => validateItems(valid, items));
          cxt.ok(valid);
        }
        it.items = true;
        function validateItems(valid, from) {
          gen.forRange("i", from, len, (i) => {
            cxt.subschema({ keyword: "unevaluatedItems", dataProp: i, dataPropType: util_1.Type.Num }, valid);
            if (!it.allErrors)
              gen.if((0, codegen_1.not)(valid), () => gen.break());
          });
        }
      }
    };
    exports.default = def;
  }
});

// node_modules/ajv/dist/vocabularies/unevaluated/index.js
var require_unevaluated = __commonJS({
  "node_modules/ajv/dist/vocabularies/unevaluated/index.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var unevaluatedProperties_1 = require_unevaluatedProperties();
    var unevaluatedItems_1 = require_unevaluatedItems();
    var unevaluated = [unevaluatedProperties_1.default, unevaluatedItems_1.default];
    exports.default = unevaluated;
  }
});

// node_modules/ajv/dist/vocabularies/draft2020.js
var require_draft2020 = __commonJS({
  "node_modules/ajv/dist/vocabularies/draft2020.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var core_1 = require_core2();
    var validation_1 = require_validation();
    var applicator_1 = require_applicator();
    var dynamic_1 = require_dynamic();
    var next_1 = require_next();
    var unevaluated_1 = require_unevaluated();
    var format_1 = require_format();
    var metadata_1 = require_metadata();
    var draft2020Vocabularies = [
      dynamic_1.default,
      core_1.default,
      validation_1.default,
      (0, applicator_1.default)(true),
      format_1.default,
      metadata_1.metadataVocabulary,
      metadata_1.contentVocabulary,
      next_1.default,
      unevaluated_1.default
    ];
    exports.default = draft2020Vocabularies;
  }
});

// node_modules/ajv/dist/refs/json-schema-2020-12/schema.json
var require_schema = __commonJS({
  "node_modules/ajv/dist/refs/json-schema-2020-12/schema.json"(exports, module) {
    module.exports = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://json-schema.org/draft/2020-12/schema",
      $vocabulary: {
        "https://json-schema.org/draft/2020-12/vocab/core": true,
        "https://json-schema.org/draft/2020-12/vocab/applicator": true,
        "https://json-schema.org/draft/2020-12/vocab/unevaluated": true,
        "https://json-schema.org/draft/2020-12/vocab/validation": true,
        "https://json-schema.org/draft/2020-12/vocab/meta-data": true,
        "https://json-schema.org/draft/2020-12/vocab/format-annotation": true,
        "https://json-schema.org/draft/2020-12/vocab/content": true
      },
      $dynamicAnchor: "meta",
      title: "Core and Validation specifications meta-schema",
      allOf: [
        { $ref: "meta/core" },
        { $ref: "meta/applicator" },
        { $ref: "meta/unevaluated" },
        { $ref: "meta/validation" },
        { $ref: "meta/meta-data" },
        { $ref: "meta/format-annotation" },
        { $ref: "meta/content" }
      ],
      type: ["object", "boolean"],
      $comment: "This meta-schema also defines keywords that have appeared in previous drafts in order to prevent incompatible extensions as they remain in common use.",
      properties: {
        definitions: {
          $comment: '"definitions" has been replaced by "$defs".',
          type: "object",
          additionalProperties: { $dynamicRef: "#meta" },
          deprecated: true,
          default: {}
        },
        dependencies: {
          $comment: '"dependencies" has been split and replaced by "dependentSchemas" and "dependentRequired" in order to serve their differing semantics.',
          type: "object",
          additionalProperties: {
            anyOf: [{ $dynamicRef: "#meta" }, { $ref: "meta/validation#/$defs/stringArray" }]
          },
          deprecated: true,
          default: {}
        },
        $recursiveAnchor: {
          $comment: '"$recursiveAnchor" has been replaced by "$dynamicAnchor".',
          $ref: "meta/core#/$defs/anchorString",
          deprecated: true
        },
        $recursiveRef: {
          $comment: '"$recursiveRef" has been replaced by "$dynamicRef".',
          $ref: "meta/core#/$defs/uriReferenceString",
          deprecated: true
        }
      }
    };
  }
});

// node_modules/ajv/dist/refs/json-schema-2020-12/meta/applicator.json
var require_applicator2 = __commonJS({
  "node_modules/ajv/dist/refs/json-schema-2020-12/meta/applicator.json"(exports, module) {
    module.exports = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://json-schema.org/draft/2020-12/meta/applicator",
      $vocabulary: {
        "https://json-schema.org/draft/2020-12/vocab/applicator": true
      },
      $dynamicAnchor: "meta",
      title: "Applicator vocabulary meta-schema",
      type: ["object", "boolean"],
      properties: {
        prefixItems: { $ref: "#/$defs/schemaArray" },
        items: { $dynamicRef: "#meta" },
        contains: { $dynamicRef: "#meta" },
        additionalProperties: { $dynamicRef: "#meta" },
        properties: {
          type: "object",
          additionalProperties: { $dynamicRef: "#meta" },
          default: {}
        },
        patternProperties: {
          type: "object",
          additionalProperties: { $dynamicRef: "#meta" },
          propertyNames: { format: "regex" },
          default: {}
        },
        dependentSchemas: {
          type: "object",
          additionalProperties: { $dynamicRef: "#meta" },
          default: {}
        },
        propertyNames: { $dynamicRef: "#meta" },
        if: { $dynamicRef: "#meta" },
        then: { $dynamicRef: "#meta" },
        else: { $dynamicRef: "#meta" },
        allOf: { $ref: "#/$defs/schemaArray" },
        anyOf: { $ref: "#/$defs/schemaArray" },
        oneOf: { $ref: "#/$defs/schemaArray" },
        not: { $dynamicRef: "#meta" }
      },
      $defs: {
        schemaArray: {
          type: "array",
          minItems: 1,
          items: { $dynamicRef: "#meta" }
        }
      }
    };
  }
});

// node_modules/ajv/dist/refs/json-schema-2020-12/meta/unevaluated.json
var require_unevaluated2 = __commonJS({
  "node_modules/ajv/dist/refs/json-schema-2020-12/meta/unevaluated.json"(exports, module) {
    module.exports = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://json-schema.org/draft/2020-12/meta/unevaluated",
      $vocabulary: {
        "https://json-schema.org/draft/2020-12/vocab/unevaluated": true
      },
      $dynamicAnchor: "meta",
      title: "Unevaluated applicator vocabulary meta-schema",
      type: ["object", "boolean"],
      properties: {
        unevaluatedItems: { $dynamicRef: "#meta" },
        unevaluatedProperties: { $dynamicRef: "#meta" }
      }
    };
  }
});

// node_modules/ajv/dist/refs/json-schema-2020-12/meta/content.json
var require_content = __commonJS({
  "node_modules/ajv/dist/refs/json-schema-2020-12/meta/content.json"(exports, module) {
    module.exports = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://json-schema.org/draft/2020-12/meta/content",
      $vocabulary: {
        "https://json-schema.org/draft/2020-12/vocab/content": true
      },
      $dynamicAnchor: "meta",
      title: "Content vocabulary meta-schema",
      type: ["object", "boolean"],
      properties: {
        contentEncoding: { type: "string" },
        contentMediaType: { type: "string" },
        contentSchema: { $dynamicRef: "#meta" }
      }
    };
  }
});

// node_modules/ajv/dist/refs/json-schema-2020-12/meta/core.json
var require_core3 = __commonJS({
  "node_modules/ajv/dist/refs/json-schema-2020-12/meta/core.json"(exports, module) {
    module.exports = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://json-schema.org/draft/2020-12/meta/core",
      $vocabulary: {
        "https://json-schema.org/draft/2020-12/vocab/core": true
      },
      $dynamicAnchor: "meta",
      title: "Core vocabulary meta-schema",
      type: ["object", "boolean"],
      properties: {
        $id: {
          $ref: "#/$defs/uriReferenceString",
          $comment: "Non-empty fragments not allowed.",
          pattern: "^[^#]*#?$"
        },
        $schema: { $ref: "#/$defs/uriString" },
        $ref: { $ref: "#/$defs/uriReferenceString" },
        $anchor: { $ref: "#/$defs/anchorString" },
        $dynamicRef: { $ref: "#/$defs/uriReferenceString" },
        $dynamicAnchor: { $ref: "#/$defs/anchorString" },
        $vocabulary: {
          type: "object",
          propertyNames: { $ref: "#/$defs/uriString" },
          additionalProperties: {
            type: "boolean"
          }
        },
        $comment: {
          type: "string"
        },
        $defs: {
          type: "object",
          additionalProperties: { $dynamicRef: "#meta" }
        }
      },
      $defs: {
        anchorString: {
          type: "string",
          pattern: "^[A-Za-z_][-A-Za-z0-9._]*$"
        },
        uriString: {
          type: "string",
          format: "uri"
        },
        uriReferenceString: {
          type: "string",
          format: "uri-reference"
        }
      }
    };
  }
});

// node_modules/ajv/dist/refs/json-schema-2020-12/meta/format-annotation.json
var require_format_annotation = __commonJS({
  "node_modules/ajv/dist/refs/json-schema-2020-12/meta/format-annotation.json"(exports, module) {
    module.exports = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://json-schema.org/draft/2020-12/meta/format-annotation",
      $vocabulary: {
        "https://json-schema.org/draft/2020-12/vocab/format-annotation": true
      },
      $dynamicAnchor: "meta",
      title: "Format vocabulary meta-schema for annotation results",
      type: ["object", "boolean"],
      properties: {
        format: { type: "string" }
      }
    };
  }
});

// node_modules/ajv/dist/refs/json-schema-2020-12/meta/meta-data.json
var require_meta_data = __commonJS({
  "node_modules/ajv/dist/refs/json-schema-2020-12/meta/meta-data.json"(exports, module) {
    module.exports = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://json-schema.org/draft/2020-12/meta/meta-data",
      $vocabulary: {
        "https://json-schema.org/draft/2020-12/vocab/meta-data": true
      },
      $dynamicAnchor: "meta",
      title: "Meta-data vocabulary meta-schema",
      type: ["object", "boolean"],
      properties: {
        title: {
          type: "string"
        },
        description: {
          type: "string"
        },
        default: true,
        deprecated: {
          type: "boolean",
          default: false
        },
        readOnly: {
          type: "boolean",
          default: false
        },
        writeOnly: {
          type: "boolean",
          default: false
        },
        examples: {
          type: "array",
          items: true
        }
      }
    };
  }
});

// node_modules/ajv/dist/refs/json-schema-2020-12/meta/validation.json
var require_validation2 = __commonJS({
  "node_modules/ajv/dist/refs/json-schema-2020-12/meta/validation.json"(exports, module) {
    module.exports = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://json-schema.org/draft/2020-12/meta/validation",
      $vocabulary: {
        "https://json-schema.org/draft/2020-12/vocab/validation": true
      },
      $dynamicAnchor: "meta",
      title: "Validation vocabulary meta-schema",
      type: ["object", "boolean"],
      properties: {
        type: {
          anyOf: [
            { $ref: "#/$defs/simpleTypes" },
            {
              type: "array",
              items: { $ref: "#/$defs/simpleTypes" },
              minItems: 1,
              uniqueItems: true
            }
          ]
        },
        const: true,
        enum: {
          type: "array",
          items: true
        },
        multipleOf: {
          type: "number",
          exclusiveMinimum: 0
        },
        maximum: {
          type: "number"
        },
        exclusiveMaximum: {
          type: "number"
        },
        minimum: {
          type: "number"
        },
        exclusiveMinimum: {
          type: "number"
        },
        maxLength: { $ref: "#/$defs/nonNegativeInteger" },
        minLength: { $ref: "#/$defs/nonNegativeIntegerDefault0" },
        pattern: {
          type: "string",
          format: "regex"
        },
        maxItems: { $ref: "#/$defs/nonNegativeInteger" },
        minItems: { $ref: "#/$defs/nonNegativeIntegerDefault0" },
        uniqueItems: {
          type: "boolean",
          default: false
        },
        maxContains: { $ref: "#/$defs/nonNegativeInteger" },
        minContains: {
          $ref: "#/$defs/nonNegativeInteger",
          default: 1
        },
        maxProperties: { $ref: "#/$defs/nonNegativeInteger" },
        minProperties: { $ref: "#/$defs/nonNegativeIntegerDefault0" },
        required: { $ref: "#/$defs/stringArray" },
        dependentRequired: {
          type: "object",
          additionalProperties: {
            $ref: "#/$defs/stringArray"
          }
        }
      },
      $defs: {
        nonNegativeInteger: {
          type: "integer",
          minimum: 0
        },
        nonNegativeIntegerDefault0: {
          $ref: "#/$defs/nonNegativeInteger",
          default: 0
        },
        simpleTypes: {
          enum: ["array", "boolean", "integer", "null", "number", "object", "string"]
        },
        stringArray: {
          type: "array",
          items: { type: "string" },
          uniqueItems: true,
          default: []
        }
      }
    };
  }
});

// node_modules/ajv/dist/refs/json-schema-2020-12/index.js
var require_json_schema_2020_12 = __commonJS({
  "node_modules/ajv/dist/refs/json-schema-2020-12/index.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    var metaSchema = require_schema();
    var applicator = require_applicator2();
    var unevaluated = require_unevaluated2();
    var content = require_content();
    var core = require_core3();
    var format = require_format_annotation();
    var metadata = require_meta_data();
    var validation = require_validation2();
    var META_SUPPORT_DATA = ["/properties"];
    function addMetaSchema2020($data) {
      ;
      [
        metaSchema,
        applicator,
        unevaluated,
        content,
        core,
        with$data(this, format),
        metadata,
        with$data(this, validation)
      ].forEach((sch) => this.addMetaSchema(sch, void 0, false));
      return this;
      function with$data(ajv, sch) {
        return $data ? ajv.$dataMetaSchema(sch, META_SUPPORT_DATA) : sch;
      }
    }
    exports.default = addMetaSchema2020;
  }
});

// node_modules/ajv/dist/2020.js
var require__ = __commonJS({
  "node_modules/ajv/dist/2020.js"(exports, module) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.MissingRefError = exports.ValidationError = exports.CodeGen = exports.Name = exports.nil = exports.stringify = exports.str = exports._ = exports.KeywordCxt = exports.Ajv2020 = void 0;
    var core_1 = require_core();
    var draft2020_1 = require_draft2020();
    var discriminator_1 = require_discriminator();
    var json_schema_2020_12_1 = require_json_schema_2020_12();
    var META_SCHEMA_ID = "https://json-schema.org/draft/2020-12/schema";
    var Ajv20202 = class extends core_1.default {
      constructor(opts = {}) {
        super({
          ...opts,
          dynamicRef: true,
          next: true,
          unevaluated: true
        });
      }
      _addVocabularies() {
        super._addVocabularies();
        draft2020_1.default.forEach((v) => this.addVocabulary(v));
        if (this.opts.discriminator)
          this.addKeyword(discriminator_1.default);
      }
      _addDefaultMetaSchema() {
        super._addDefaultMetaSchema();
        const { $data, meta } = this.opts;
        if (!meta)
          return;
        json_schema_2020_12_1.default.call(this, $data);
        this.refs["http://json-schema.org/schema"] = META_SCHEMA_ID;
      }
      defaultMeta() {
        return this.opts.defaultMeta = super.defaultMeta() || (this.getSchema(META_SCHEMA_ID) ? META_SCHEMA_ID : void 0);
      }
    };
    exports.Ajv2020 = Ajv20202;
    module.exports = exports = Ajv20202;
    module.exports.Ajv2020 = Ajv20202;
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.default = Ajv20202;
    var validate_1 = require_validate();
    Object.defineProperty(exports, "KeywordCxt", { enumerable: true, get: function() {
      return validate_1.KeywordCxt;
    } });
    var codegen_1 = require_codegen();
    Object.defineProperty(exports, "_", { enumerable: true, get: function() {
      return codegen_1._;
    } });
    Object.defineProperty(exports, "str", { enumerable: true, get: function() {
      return codegen_1.str;
    } });
    Object.defineProperty(exports, "stringify", { enumerable: true, get: function() {
      return codegen_1.stringify;
    } });
    Object.defineProperty(exports, "nil", { enumerable: true, get: function() {
      return codegen_1.nil;
    } });
    Object.defineProperty(exports, "Name", { enumerable: true, get: function() {
      return codegen_1.Name;
    } });
    Object.defineProperty(exports, "CodeGen", { enumerable: true, get: function() {
      return codegen_1.CodeGen;
    } });
    var validation_error_1 = require_validation_error();
    Object.defineProperty(exports, "ValidationError", { enumerable: true, get: function() {
      return validation_error_1.default;
    } });
    var ref_error_1 = require_ref_error();
    Object.defineProperty(exports, "MissingRefError", { enumerable: true, get: function() {
      return ref_error_1.default;
    } });
  }
});

// src/verify/evidence-input.ts
var import__ = __toESM(require__(), 1);

// schema/buildfence-report.schema.json
var buildfence_report_schema_default = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://buildfence.invalid/schema/buildfence-report.schema.json",
  title: "buildfence evidence record",
  description: "What one fenced build step had in force and what it did: written by the action (output 'report') and by the CLI (--report FILE).",
  type: "object",
  additionalProperties: false,
  required: ["format", "runId", "grade", "mode", "started", "ended", "exitCode", "images", "rules", "allowlist", "deny", "denied", "deniedTotal", "dns", "suggestedAllowlist"],
  properties: {
    format: { const: "buildfence-report/2", description: "Format and version of this record: 2 since the DNS verdict audited, the names that led to a denied destination, the name check's refusals in denied (with reason, asked and detail) and rules.ip6tablesNat." },
    runId: { type: "string", pattern: "^[0-9a-f]{12}$", description: "The run's id; its containers carried the label buildfence.run=<runId>." },
    grade: { type: "string", minLength: 1 },
    policy: {
      type: "object",
      additionalProperties: false,
      required: ["path", "sha256"],
      description: "The policy file the grade came from, as named relative to the workspace, and the sha256 of its bytes; absent for a built-in grade used without a file.",
      properties: {
        path: { type: "string" },
        sha256: { type: "string", pattern: "^[0-9a-f]{64}$" }
      }
    },
    mode: { enum: ["block", "audit"] },
    started: { type: "string", format: "date-time" },
    ended: { type: "string", format: "date-time" },
    exitCode: { type: "integer", description: "The build's exit code." },
    images: {
      type: "object",
      additionalProperties: false,
      required: ["holder", "build"],
      properties: {
        holder: { $ref: "#/$defs/image" },
        build: { $ref: "#/$defs/image" }
      }
    },
    rules: {
      type: "object",
      additionalProperties: false,
      required: ["ipset", "iptables", "ip6tables", "iptablesNat", "ip6tablesNat", "resolvConf", "sha256"],
      description: "The rules exactly as loaded into the holder (and read back equal before the build started).",
      properties: {
        ipset: { type: "string", description: "ipset restore input." },
        iptables: { type: "string", description: "iptables-restore input, filter table." },
        ip6tables: { type: "string", description: "ip6tables-restore input, filter table." },
        iptablesNat: { type: "string", description: "iptables-restore input, nat table (DNS to the resolver, checked TCP to the name checker)." },
        ip6tablesNat: { type: "string", description: "ip6tables-restore input, nat table (checked TCP to the name checker); empty without one." },
        resolvConf: { type: "string", description: "The build's resolv.conf." },
        sha256: { type: "string", pattern: "^[0-9a-f]{64}$", description: "sha256 of ipset, iptables, iptablesNat, ip6tables, ip6tablesNat and resolvConf, concatenated in that order." }
      }
    },
    allowlist: { type: "array", items: { type: "string" }, description: "Entries in force, canonical form." },
    deny: { type: "array", items: { type: "string" }, description: "Denied entries in force (from the policy), canonical form." },
    denied: {
      type: "array",
      description: "Every denied destination with its count, and every inbound attempt (inbound=true). In audit mode, entries with enforced=false were let through and would be refused in block mode.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["protocol", "address", "names", "enforced", "count", "first", "last"],
        properties: {
          protocol: { enum: ["tcp", "udp", "icmp", "other"] },
          address: { type: "string" },
          port: { type: "integer", minimum: 0, maximum: 65535 },
          names: { type: "array", maxItems: 10, items: { type: "string" }, description: "Names the resolver answered with this address, in every mode: at most 10 a destination and 1,000 in all of the record's destinations." },
          name: { type: "string", description: "Of all its names, the one answered last before the first attempt: the name that most likely led here." },
          moreNames: { type: "integer", minimum: 1, description: "How many more names the address was answered for (dns lists them)." },
          enforced: { type: "boolean" },
          inbound: { const: true, description: "A new connection or datagram to the build from outside, refused by the holder's INPUT rules (enforced=false: audit let it through). address is where it came from, port the build's port it tried to reach. Absent for the build's own attempts." },
          count: { type: "integer", minimum: 1, description: "Attempts the log holds for this destination: per destination it keeps the first 5, then 1 a second; the rest count in deniedTotal only." },
          first: { type: "string", format: "date-time" },
          last: { type: "string", format: "date-time", description: "The last attempt the log holds (within a second of the last one made)." },
          folded: { const: true, description: "A row for many destinations: once the log holds 10,000, new ones count per address (port absent), past 1,000 such rows under address *." },
          reason: { enum: ["sni", "no-sni", "host", "opaque"], description: "Refused by the name check (TCP to an address a name entry opened): the TLS server_name is not allowed on this port (sni), the ClientHello carries no single readable one (no-sni), an HTTP request's Host is not allowed or cannot be read (host), or the bytes are neither TLS nor HTTP/1.x, or none came (opaque). Absent: refused by the address rules." },
          asked: { type: "string", description: "The name the connection carried (server_name or Host); '*' for a row of many names folded once the log was full." },
          detail: { type: "string", description: "The name check's reason in words, for the first connection counted in this row." }
        }
      }
    },
    deniedTotal: { type: "integer", minimum: 0, description: "Every denied attempt (audit mode: every one block mode would deny): counts.refused + counts.audited (the kernel's own count unless counts.source is log) + counts.nameCheck.refused + counts.nameCheck.audited." },
    counts: {
      type: "object",
      additionalProperties: false,
      required: ["source", "refused", "audited", "logged", "read", "lost", "nameCheck"],
      description: "Where the totals come from and how much of the denied-attempt log the record holds. Absent in records written before it existed.",
      properties: {
        source: { enum: ["kernel", "log"], description: "kernel: the fence's rule counters, read after the build; log: they could not be read (the step warned), so the log's entries." },
        refused: { type: "integer", minimum: 0, description: "Attempts the fence refused, the build's and inbound ones (denied rows with inbound=true)." },
        audited: { type: "integer", minimum: 0, description: "Attempts audit mode let through that block mode would refuse, the build's and inbound ones." },
        logged: { type: "integer", minimum: 0, description: "Log entries the kernel wrote (within the limit per destination)." },
        read: { type: "integer", minimum: 0, description: "Log entries the record holds: the sum of the denied counts." },
        lost: { type: "integer", minimum: 0, description: "Entries written but never read (the log queue overflowed): destinations may be missing from denied. The step warns." },
        nameCheck: {
          type: "object",
          additionalProperties: false,
          required: ["refused", "audited"],
          description: "Connections the name checker refused, and those audit mode let through that it would refuse: it counts them (every one is in denied, with a reason), not the kernel; deniedTotal includes them.",
          properties: { refused: { type: "integer", minimum: 0 }, audited: { type: "integer", minimum: 0 } }
        }
      }
    },
    dns: {
      type: "array",
      description: "Every DNS decision: name, type, the policy's verdict, whether it was forwarded upstream, the addresses answered.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "type", "verdict", "forwarded", "addresses", "count", "first", "last"],
        properties: {
          name: { type: "string" },
          type: { type: "string" },
          verdict: { enum: ["allowed", "refused", "audited"], description: "allowed: an entry allows the name; refused: block mode answered NXDOMAIN and sent nothing upstream; audited: audit mode forwarded a name no entry allows (block mode would refuse it)." },
          forwarded: { type: "boolean" },
          addresses: { type: "array", maxItems: 100, items: { type: "string" }, description: "At most 100 a decision and 100,000 in all." },
          moreAddresses: { type: "integer", minimum: 1, description: "How many more addresses the name was answered with." },
          count: { type: "integer", minimum: 1 },
          first: { type: "string", format: "date-time" },
          last: { type: "string", format: "date-time" },
          folded: { const: true, description: "A row for many names: once the log holds 10,000 names, new names count under * and their last two labels (past 1,000 such rows, under *); name is that pattern, count the queries." },
          reason: { enum: ["malformed", "opcode", "class", "type"], description: "Set when the query was answered by buildfence for its form, whatever its name, and never forwarded: malformed (FORMERR; name and type empty when unreadable), opcode (NOTIMP), class or type (REFUSED: only class IN and the listed types are forwarded)." }
        }
      }
    },
    suggestedAllowlist: { type: "array", items: { type: "string" }, description: "Audit runs: entries that block mode would need." },
    buildfence: {
      type: "object",
      additionalProperties: false,
      required: ["version"],
      description: "The buildfence that ran the step.",
      properties: { version: { type: "string" } }
    },
    github: {
      type: "object",
      additionalProperties: false,
      required: ["repository", "runId"],
      description: "The workflow run as GitHub's default variables gave it (GITHUB_REPOSITORY, GITHUB_WORKFLOW_REF, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_SHA, GITHUB_REF, GITHUB_EVENT_NAME, GITHUB_ACTOR, RUNNER_NAME, RUNNER_OS, RUNNER_ARCH, GITHUB_SERVER_URL); absent outside GitHub Actions.",
      properties: {
        repository: { type: "string" },
        workflowRef: { type: "string" },
        runId: { type: "string" },
        runAttempt: { type: "string" },
        sha: { type: "string" },
        ref: { type: "string" },
        eventName: { type: "string" },
        actor: { type: "string" },
        runnerName: { type: "string" },
        runnerOs: { type: "string" },
        runnerArch: { type: "string" },
        serverUrl: { type: "string" }
      }
    },
    failure: { type: "string", description: "Set when buildfence itself failed during the run (the build was stopped): why. The record holds what was recorded until then." }
  },
  $defs: {
    image: {
      type: "object",
      additionalProperties: false,
      required: ["name", "id"],
      properties: {
        name: { type: "string" },
        id: { type: "string", description: "The local image ID (sha256:...)." },
        repoDigests: { type: "array", items: { type: "string" }, description: "Registry digests (name@sha256:...) the engine knows for the image; empty for one built or imported locally." }
      }
    }
  }
};

// src/verify/evidence-input.ts
var InputProblem = class extends Error {
};
var validateRecord;
function readEvidence(text, name) {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const jsonLines = lines.length > 1 && lines.every((l) => l.trimStart().startsWith("{") && l.trimEnd().endsWith("}"));
  if (!jsonLines) return fromValue(parseJson(text, name), name);
  const ours = lines.map((line, i) => ({ line, i })).filter(({ line }) => !isOtherPredicate(line));
  if (ours.length !== 1) {
    throw new InputProblem(
      ours.length === 0 ? `${name} holds ${lines.length} attestations, none of them buildfence's (${PREDICATE_TYPE}).` : `${name} holds ${ours.length} buildfence attestations (lines ${ours.map(({ i }) => i + 1).join(", ")}); give a file with the one to check.`
    );
  }
  return fromValue(parseJson(ours[0].line, `${name} line ${ours[0].i + 1}`), name);
}
function isOtherPredicate(line) {
  try {
    const value = JSON.parse(line);
    if (!isObject(value)) return false;
    const envelope = isObject(value.dsseEnvelope) ? value.dsseEnvelope : value;
    const statement = typeof envelope.payload === "string" ? JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) : envelope;
    return isObject(statement) && "_type" in statement && statement.predicateType !== PREDICATE_TYPE;
  } catch {
    return false;
  }
}
function parseJson(text, name) {
  if (text.trim() === "") throw new InputProblem(`${name} is empty.`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputProblem(`${name} is not JSON (${err.message}); is it truncated?`);
  }
}
function fromValue(value, name) {
  if (!isObject(value)) throw new InputProblem(`${name} is JSON but not an object: expected a record, a statement or a bundle.`);
  if (isObject(value.dsseEnvelope)) return { ...fromEnvelope(value.dsseEnvelope, name), kind: "Sigstore bundle" };
  if ("payloadType" in value && "payload" in value) return { ...fromEnvelope(value, name), kind: "DSSE envelope" };
  if ("_type" in value) return fromStatement(value, name);
  if ("format" in value) return { record: checkRecord(value, name), kind: "record" };
  throw new InputProblem(`${name} is neither a buildfence record (no 'format') nor an in-toto statement (no '_type') nor a bundle.`);
}
function fromEnvelope(envelope, name) {
  if (envelope.payloadType !== "application/vnd.in-toto+json") {
    throw new InputProblem(`${name}: the envelope carries '${String(envelope.payloadType)}', not an in-toto statement.`);
  }
  if (typeof envelope.payload !== "string") throw new InputProblem(`${name}: the envelope has no payload.`);
  return fromStatement(parseJson(Buffer.from(envelope.payload, "base64").toString("utf8"), `${name} (payload)`), name);
}
function fromStatement(value, name) {
  if (!isObject(value) || value._type !== STATEMENT_TYPE) {
    throw new InputProblem(
      `${name}: expected an in-toto statement (${STATEMENT_TYPE}), found _type '${isObject(value) ? String(value._type) : typeof value}'.`
    );
  }
  if (value.predicateType !== PREDICATE_TYPE) {
    throw new InputProblem(
      `${name} is a statement of another kind (predicateType '${String(value.predicateType)}'); buildfence's is ${PREDICATE_TYPE}.`
    );
  }
  const subjects = value.subject;
  if (!Array.isArray(subjects) || !subjects.every((s) => isObject(s) && typeof s.name === "string" && isObject(s.digest) && typeof s.digest.sha256 === "string")) {
    throw new InputProblem(`${name}: the statement's subjects are not a list of {name, digest: {sha256}}.`);
  }
  const record = checkRecord(value.predicate, `${name} (predicate)`);
  return { record, statement: value, kind: "statement" };
}
function checkRecord(value, name) {
  if (!isObject(value)) throw new InputProblem(`${name} is not a buildfence record.`);
  if (value.format !== REPORT_FORMAT) {
    throw new InputProblem(
      `${name} has format '${String(value.format)}'; this buildfence reads ${REPORT_FORMAT}. Use the buildfence version that wrote it.`
    );
  }
  validateRecord ??= new import__.Ajv2020({ allErrors: true, strict: true, validateFormats: false }).compile(buildfence_report_schema_default);
  if (!validateRecord(value)) {
    const problems = (validateRecord.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
    throw new InputProblem(`${name} does not match schema/buildfence-report.schema.json: ${problems.join("; ")}.`);
  }
  return value;
}
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// src/verify/verify.ts
import * as fs from "node:fs";
import * as path from "node:path";

// src/verify/checks.ts
var pass = (name, detail) => ({ name, pass: true, detail });
var fail = (name, detail) => ({ name, pass: false, detail });
function verifyRun(v) {
  const r = v.record;
  return [
    r.grade === v.grade.name ? pass("grade", `grade: ${shown(r.grade)}`) : fail("grade", `grade: the run says '${shown(r.grade)}', the check asks for '${v.grade.name}'`),
    r.mode === "block" ? pass("mode", "mode: block") : fail("mode", `mode: ${r.mode}, which lets everything through and only records it; a release must run in block mode`),
    policyCheck(v),
    allowlistCheck(r, v.grade),
    denyCheck(r, v.grade),
    r.rules.sha256 === rulesDigest({
      ipset: r.rules.ipset,
      v4: r.rules.iptables,
      v6: r.rules.ip6tables,
      nat4: r.rules.iptablesNat,
      nat6: r.rules.ip6tablesNat,
      resolvConf: r.rules.resolvConf
    }) ? pass("rules", `rules.sha256: ${r.rules.sha256}, the digest of the rules the record holds`) : fail("rules", "rules.sha256: does not match the rules the record holds (the record was altered)"),
    r.exitCode === 0 ? pass("exit code", "exitCode: 0") : fail("exit code", `exitCode: ${r.exitCode}: the build failed`),
    deniedCheck(r, v.allowDenied),
    ...subjectChecks(v)
  ];
}
function policyCheck(v) {
  const recorded = v.record.policy;
  if (!recorded) return fail("policy", "policy: the run used no policy file (built-in grades only)");
  if (recorded.sha256 !== v.policy.sha256) {
    return fail(
      "policy",
      `policy.sha256: the run's ${shown(recorded.path)} was ${shown(recorded.sha256)}, the given ${v.policy.path} is ${v.policy.sha256}`
    );
  }
  return pass("policy", `policy.sha256: ${recorded.sha256} (${shown(recorded.path)}), equal to ${v.policy.path}`);
}
function entries(texts) {
  return texts.flatMap(
    (text) => text.split(", ").map((part) => {
      try {
        return { text: part, entry: parseEntry(part) };
      } catch {
        return { text: part };
      }
    })
  );
}
function allowlistCheck(r, grade) {
  const beyond = entries(r.allowlist).filter(({ entry }) => !entry || !grade.allow.some((g) => covers(g, entry))).map(({ text }) => shown(text));
  return beyond.length === 0 ? pass("allowlist", `allowlist: ${r.allowlist.length} entr${r.allowlist.length === 1 ? "y" : "ies"}, each within grade ${grade.name}`) : fail("allowlist", `allowlist: beyond grade ${grade.name}: ${beyond.join(", ")}`);
}
function denyCheck(r, grade) {
  const recorded = entries(r.deny).flatMap(({ entry }) => entry ? [entry] : []);
  const missing = grade.deny.filter((d) => !recorded.some((e) => covers(e, d))).map(formatEntry);
  return missing.length === 0 ? pass(
    "deny",
    `deny: every one of grade ${grade.name}'s ${grade.deny.length} deny entr${grade.deny.length === 1 ? "y" : "ies"} was in force`
  ) : fail("deny", `deny: not in force: ${missing.join(", ")}`);
}
function deniedCheck(r, allowDenied) {
  const names = r.dns.filter((d) => d.verdict === "refused").reduce((n, d) => n + d.count, 0);
  const what = `deniedTotal: ${r.deniedTotal}, names refused: ${names}`;
  if (r.deniedTotal === 0 && names === 0) return pass("denied", what);
  return allowDenied ? pass("denied", `${what} (accepted: --allow-denied)`) : fail("denied", `${what}: the build tried to reach what the grade refuses`);
}
function subjectChecks(v) {
  if (v.subjects.length === 0) return [];
  if (!v.statement)
    return [fail("subject", "subject: a plain record names no artifact; check the attestation (statement or bundle) instead")];
  return v.subjects.map(({ file, sha256 }) => {
    const named = v.statement.subject.find((s) => s.digest.sha256 === sha256);
    return named ? pass("subject", `subject ${shown(named.name)}: sha256 ${sha256} equals ${file}`) : fail(
      "subject",
      `subject: ${file} (sha256 ${sha256}) is not among the attested artifacts (${v.statement.subject.map((s) => shown(s.name)).join(", ")})`
    );
  });
}

// src/verify/verify.ts
async function verify(req) {
  try {
    const evidence = readEvidence(readFile(req.evidence, req.dir, req.label("evidence")), req.evidence);
    const policy = loadPolicy(req.policy, req.dir, req.label("policy"));
    if (policy.file === void 0 || policy.sha256 === void 0) throw new InputProblem(`${req.label("policy")}: no policy file given.`);
    const grade = gradeOf(policy, req.grade, req.label("grade"));
    const subjects = await Promise.all(
      req.subjects.map(async (file) => {
        const full = path.resolve(req.dir, file);
        if (!fs.statSync(full, { throwIfNoEntry: false })?.isFile())
          throw new InputProblem(`${req.label("subject")} '${file}' is not a file (${full}).`);
        return { file, sha256: await sha256File(full) };
      })
    );
    const checks = verifyRun({
      ...evidence,
      grade,
      policy: { path: policy.file, sha256: policy.sha256 },
      subjects,
      allowDenied: req.allowDenied
    });
    const failed = checks.filter((c) => !c.pass).length;
    const lines = [
      `buildfence verify: ${evidence.kind} ${req.evidence}, run ${evidence.record.runId}, against grade ${grade.name} of ${policy.file}`,
      ...checks.map((c) => `${c.pass ? "pass" : "FAIL"}  ${c.name.padEnd(9)}  ${c.detail}`),
      failed === 0 ? `verdict: pass (${checks.length} checks)` : `verdict: FAIL (${failed} of ${checks.length} checks failed)`
    ];
    return { exitCode: failed === 0 ? 0 : 1, checks, text: `${lines.join("\n")}
` };
  } catch (err) {
    return { exitCode: 2, checks: [], text: `buildfence verify: cannot check: ${err instanceof Error ? err.message : String(err)}
` };
  }
}
function readFile(file, dir, label) {
  try {
    return fs.readFileSync(path.resolve(dir, file), "utf8");
  } catch (err) {
    throw new InputProblem(`${label} '${file}' cannot be read: ${err.code ?? err.message}.`);
  }
}

export {
  readEvidence,
  verify
};
